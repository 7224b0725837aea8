/** The desired capture state as an nftables script, and the normalized kernel listing it is compared with. */
package dev.capstan.redirect.nft;

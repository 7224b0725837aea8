/** Running external programs (nft, ip, sysctl) behind a small interface, with a timeout and no shell. */
package dev.capstan.redirect.exec;

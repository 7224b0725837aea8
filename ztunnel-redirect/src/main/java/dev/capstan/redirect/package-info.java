/** The redirect daemon: captures enrolled pods' TCP traffic to the node agent with nftables TPROXY. */
package dev.capstan.redirect;

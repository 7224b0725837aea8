/**
 * The test network: two nodes and their pods as network namespaces, commands and processes inside
 * them, and what the tests observe on the wire between the nodes (nftables counters, tcpdump).
 */
package dev.capstan.e2e.net;

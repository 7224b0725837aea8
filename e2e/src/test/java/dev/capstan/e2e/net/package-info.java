/**
 * The e2e tests' side of the network ({@code dev.capstan.netlab}): the JUnit extension that builds
 * and removes it, and what the tests observe on the wire between the nodes (nftables counters,
 * tcpdump).
 */
package dev.capstan.e2e.net;

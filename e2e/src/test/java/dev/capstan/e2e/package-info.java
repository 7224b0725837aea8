/** End-to-end tests: real network namespaces, real nftables, the shipped jars as processes (root only). */
package dev.capstan.e2e;

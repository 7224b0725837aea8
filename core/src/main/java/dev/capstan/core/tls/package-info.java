/** Mutual TLS for HBONE: certificates, SPIFFE chain verification and Netty SSL contexts. */
package dev.capstan.core.tls;

/** SPIFFE identities: parsing, formatting and extraction from X.509 certificates. */
package dev.capstan.core.identity;

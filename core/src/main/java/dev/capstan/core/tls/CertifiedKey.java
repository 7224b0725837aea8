package dev.capstan.core.tls;

import dev.capstan.core.identity.SpiffeId;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A private key with its certificate chain (leaf first) and the identity the leaf names.
 *
 * @param identity the leaf's SPIFFE ID
 * @param key the leaf's private key
 * @param chain leaf first, then intermediates; the root may be omitted
 */
public record CertifiedKey(SpiffeId identity, PrivateKey key, List<X509Certificate> chain) {

  public CertifiedKey {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(key, "key");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("certificate chain is empty");
    }
  }

  /** The leaf certificate. */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** When the leaf expires. */
  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }
}

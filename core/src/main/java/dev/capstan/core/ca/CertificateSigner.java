package dev.capstan.core.ca;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import java.security.KeyPair;
import java.util.concurrent.CompletionStage;

/** Gets a CSR signed: the CA ({@link CaClient}), or a fake in tests. */
@FunctionalInterface
public interface CertificateSigner {

  /**
   * Sends {@code csrPem} (built from {@code key} for {@code id}) and completes with the verified
   * chain and the key, or fails (a {@link CaException} says why).
   */
  CompletionStage<CertifiedKey> sign(SpiffeId id, KeyPair key, String csrPem);
}

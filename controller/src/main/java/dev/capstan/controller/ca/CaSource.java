package dev.capstan.controller.ca;

/**
 * Where the CA's signing key comes from: a root made on first start and persisted
 * ({@link FileCaStore}, {@link SecretCaStore}), or one the operator provides ({@link ProvidedCa}).
 * Blocking (files, the API server): call it at start-up, never on an event loop.
 */
public interface CaSource {

  /** The signing CA; created and persisted first if the store has none. */
  SigningCa signingCa();
}

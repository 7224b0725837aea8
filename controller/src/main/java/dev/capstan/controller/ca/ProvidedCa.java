package dev.capstan.controller.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A root or intermediate the operator provides instead of a self-made root: a PEM chain file
 * (signing certificate first, then any intermediates, the self-signed root last) and the signing
 * certificate's private key (EC or RSA, PKCS#8 or SEC1 PEM). The signing certificate must be a CA;
 * clients are served the whole chain above their leaf, up to the root.
 */
public final class ProvidedCa implements CaSource {

  private final Path certChain;
  private final Path key;

  public ProvidedCa(Path certChain, Path key) {
    this.certChain = certChain;
    this.key = key;
  }

  @Override
  public SigningCa signingCa() {
    String chainPem;
    String keyPem;
    try {
      chainPem = Files.readString(certChain, StandardCharsets.US_ASCII);
      keyPem = Files.readString(key, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new CaStoreException("cannot read the provided CA (" + certChain + ", " + key + "): " + e, e);
    }
    return SigningCa.fromPem(chainPem, keyPem, certChain + " + " + key);
  }
}

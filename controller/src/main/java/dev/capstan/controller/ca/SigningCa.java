package dev.capstan.controller.ca;

import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The key the CA signs with and the chain above the leaves it signs: the signing certificate
 * first, then intermediates, the root last (a self-made root is all three at once). Checked on
 * construction: the signing certificate is a CA, the key is its key, each certificate is signed
 * by the next and the last is self-signed.
 *
 * @param key the signing key
 * @param chain signing certificate first, root last
 */
public record SigningCa(PrivateKey key, List<X509Certificate> chain) {

  public SigningCa {
    Objects.requireNonNull(key, "key");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("CA certificate chain is empty");
    }
    check(key, chain);
  }

  /** A new self-signed ECDSA P-256 root. */
  public static SigningCa selfSigned(String trustDomain, Clock clock, Duration validity) {
    Issuer root = Issuer.selfSignedRoot(trustDomain, clock.instant(), validity);
    return new SigningCa(root.key(), List.of(root.certificate()));
  }

  /** Reads a key and chain from PEM text; throws {@link CaStoreException} naming {@code where}. */
  public static SigningCa fromPem(String chainPem, String keyPem, String where) {
    try {
      return new SigningCa(Pem.privateKey(keyPem), Pem.certificates(chainPem));
    } catch (Exception e) {
      throw new CaStoreException("CA in " + where + " is unusable: " + e.getMessage(), e);
    }
  }

  /** The certificate that signs leaves. */
  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** The root the chain ends in: what every mesh member trusts. */
  public X509Certificate root() {
    return chain.get(chain.size() - 1);
  }

  /** The chain in PEM, signing certificate first. */
  public String chainPem() {
    return Pem.encode(chain);
  }

  /** The root in PEM. */
  public String rootPem() {
    return Pem.encode(root());
  }

  private static void check(PrivateKey key, List<X509Certificate> chain) {
    X509Certificate signing = chain.get(0);
    if (signing.getBasicConstraints() < 0) {
      throw new IllegalArgumentException(
          "signing certificate " + signing.getSubjectX500Principal() + " is not a CA (basicConstraints CA:false)");
    }
    boolean[] usage = signing.getKeyUsage();
    if (usage != null && !usage[5]) {
      throw new IllegalArgumentException(
          "signing certificate " + signing.getSubjectX500Principal() + " lacks the keyCertSign key usage");
    }
    try {
      String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      byte[] probe = "capstan key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(signing.getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signature)) {
        throw new IllegalArgumentException("the CA key does not belong to the signing certificate");
      }
      for (int i = 0; i < chain.size(); i++) {
        X509Certificate cert = chain.get(i);
        X509Certificate issuer = chain.get(Math.min(i + 1, chain.size() - 1));
        if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
          throw new IllegalArgumentException("certificate " + cert.getSubjectX500Principal()
              + " is not issued by the next one in the chain (" + issuer.getSubjectX500Principal()
              + ")" + (i == chain.size() - 1 ? ": the chain must end with the self-signed root" : ""));
        }
        cert.verify(issuer.getPublicKey());
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("CA chain does not verify: " + e.getMessage(), e);
    }
  }
}

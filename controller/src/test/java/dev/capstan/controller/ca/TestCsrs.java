package dev.capstan.controller.ca;

import dev.capstan.core.tls.Pem;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** CSRs and CA certificates for tests, well-formed or deliberately wrong. */
final class TestCsrs {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();

  private TestCsrs() {}

  static KeyPair ec(String curve) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair p256() {
    return ec("secp256r1");
  }

  static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static GeneralName uri(String uri) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, uri);
  }

  static GeneralName dns(String name) {
    return new GeneralName(GeneralName.dNSName, name);
  }

  /** A CSR with exactly these SANs (none: no extension request at all). */
  static String csr(KeyPair key, GeneralName... sans) {
    return Pem.encode(request(key, "CN=ignored", sans));
  }

  /** A CSR whose signature is broken (one bit of the signature flipped). */
  static String badSignature(KeyPair key, GeneralName san) {
    try {
      byte[] der = request(key, "CN=x", san).getEncoded();
      der[der.length - 4] ^= 0x01;
      return "-----BEGIN CERTIFICATE REQUEST-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(der)
          + "\n-----END CERTIFICATE REQUEST-----\n";
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static PKCS10CertificationRequest request(KeyPair key, String subject, GeneralName... sans) {
    try {
      String algorithm = key.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      JcaPKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), key.getPublic());
      if (sans.length > 0) {
        b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, new Extensions(
            new Extension(Extension.subjectAlternativeName, true, new GeneralNames(sans).getEncoded())));
      }
      return b.build(new JcaContentSignerBuilder(algorithm).setProvider(BC).build(key.getPrivate()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A CA (or, with {@code ca = false}, a leaf) certificate for {@code subjectKey}, signed by {@code issuer}. */
  static X509Certificate certificate(String subject, KeyPair subjectKey, X509Certificate issuer, KeyPair issuerKey, boolean ca) {
    try {
      Instant now = Instant.now();
      X500Name issuerName = issuer == null ? new X500Name(subject) : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
      var b = new JcaX509v3CertificateBuilder(issuerName, new BigInteger(64, new SecureRandom()),
          Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(365))), new X500Name(subject), subjectKey.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(issuerKey.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

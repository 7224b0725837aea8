package dev.capstan.core.tls;

import dev.capstan.core.identity.SpiffeId;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate issuer: a root (or intermediate) key that signs SPIFFE leaf certificates with
 * ECDSA P-256, using Bouncy Castle (several times faster than the JDK's signer here).
 *
 * <p>The controller's CA service wraps one of these; {@code capstan-node-agent certs} uses one to
 * write certificates for clusterless meshes and tests.
 */
public final class Issuer {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final PrivateKey key;
  private final X509Certificate certificate;

  public Issuer(PrivateKey key, X509Certificate certificate) {
    this.key = key;
    this.certificate = certificate;
  }

  /** A new self-signed root for a trust domain. */
  public static Issuer selfSignedRoot(String trustDomain, Instant now, Duration validity) {
    try {
      KeyPair pair = newKeyPair();
      X500Name name = new X500Name("O=capstan,CN=" + trustDomain + " root");
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name, serial(), Date.from(now.minusSeconds(60)), Date.from(now.plus(validity)), name, pair.getPublic());
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
      return new Issuer(pair.getPrivate(), sign(builder, pair.getPrivate()));
    } catch (GeneralSecurityException | java.io.IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot create root certificate", e);
    }
  }

  /** A new ECDSA P-256 key pair. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no ECDSA P-256 key generator", e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public PrivateKey key() {
    return key;
  }

  /** A fresh key and a leaf for {@code id}, valid from now for {@code validity}. */
  public CertifiedKey issue(SpiffeId id, Instant now, Duration validity) {
    KeyPair pair = newKeyPair();
    X509Certificate leaf = leaf(pair.getPublic(), List.of(id.uri()), now.minusSeconds(60), now.plus(validity));
    return new CertifiedKey(id, pair.getPrivate(), List.of(leaf, certificate));
  }

  /**
   * A leaf for a public key with the given URI SANs. A mesh leaf has exactly one; this method
   * accepts any number so tests can build the certificates a peer must refuse.
   */
  public X509Certificate leaf(PublicKey publicKey, List<String> uriSans, Instant notBefore, Instant notAfter) {
    try {
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              certificate, serial(), Date.from(notBefore), Date.from(notAfter),
              uriSans.isEmpty() ? new X500Name("O=capstan") : new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), publicKey);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      GeneralName[] names = uriSans.stream().map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u)).toArray(GeneralName[]::new);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      if (names.length > 0) {
        // The subject is empty, so the SAN extension is critical (RFC 5280, 4.2.1.6).
        builder.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      }
      builder.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(certificate));
      builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(publicKey));
      return sign(builder, key);
    } catch (GeneralSecurityException | java.io.IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue leaf certificate", e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(signingKey);
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }

  private static BigInteger serial() {
    return new BigInteger(128, RANDOM);
  }
}

package dev.capstan.controller.ca;

import dev.capstan.core.identity.SpiffeId;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Signs mesh leaves with Bouncy Castle: empty subject, exactly one URI SAN (the SPIFFE ID,
 * critical since the subject is empty), basicConstraints CA:false (critical), keyUsage
 * digitalSignature (critical), extendedKeyUsage serverAuth + clientAuth, a random 127-bit serial,
 * valid from a minute ago (clock skew) to {@code now + validity}, never past the CA's own expiry.
 */
final class LeafSigner {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration BACKDATE = Duration.ofMinutes(1);
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|.*:.*");

  private final SigningCa ca;

  LeafSigner(SigningCa ca) {
    this.ca = ca;
  }

  /** A workload leaf: one URI SAN, client and server use. */
  X509Certificate workload(PublicKey key, SpiffeId id, Instant now, Duration validity) {
    return sign(key, List.of(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri())), now, validity,
        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth});
  }

  /** The CA server's own certificate: its SPIFFE ID plus DNS names (or IP literals), server use. */
  X509Certificate server(PublicKey key, SpiffeId id, List<String> names, Instant now, Duration validity) {
    List<GeneralName> sans = new ArrayList<>();
    sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri()));
    for (String name : names) {
      sans.add(new GeneralName(IP_LITERAL.matcher(name).matches() ? GeneralName.iPAddress : GeneralName.dNSName, name));
    }
    return sign(key, sans, now, validity, new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth});
  }

  private X509Certificate sign(PublicKey key, List<GeneralName> sans, Instant now, Duration validity, KeyPurposeId[] purposes) {
    X509Certificate issuer = ca.certificate();
    Instant notAfter = now.plus(validity);
    if (notAfter.isAfter(issuer.getNotAfter().toInstant())) {
      notAfter = issuer.getNotAfter().toInstant();
    }
    try {
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          issuer, new BigInteger(127, RANDOM).setBit(126), Date.from(now.minus(BACKDATE)), Date.from(notAfter),
          new X500Name(new RDN[0]), key);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
      builder.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(sans.toArray(new GeneralName[0])));
      builder.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(issuer));
      builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
      String algorithm = "RSA".equals(ca.key().getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA";
      ContentSigner signer = new JcaContentSignerBuilder(algorithm).setProvider(BC).build(ca.key());
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (Exception e) {
      throw new IllegalStateException("cannot sign certificate: " + e.getMessage(), e);
    }
  }
}

package dev.capstan.controller.ca;

import dev.capstan.core.identity.SpiffeId;
import java.io.StringReader;
import java.security.PublicKey;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Reads and checks a PEM PKCS#10 CSR: one request, an ECDSA P-256 key, a signature that verifies
 * with that key, and exactly one subject alternative name, a URI that is a SPIFFE ID of the mesh's
 * trust domain. Of the CSR only the key and that ID are used; its subject and every other
 * extension are ignored.
 */
final class CsrCheck {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();

  /**
   * A checked CSR.
   *
   * @param identity the SPIFFE ID the CSR asks for
   * @param publicKey its key (re-encoded, uncompressed, named curve)
   */
  record Checked(SpiffeId identity, PublicKey publicKey) {}

  private CsrCheck() {}

  static Checked check(String pem, String trustDomain) throws Denial {
    PKCS10CertificationRequest csr = parse(pem);
    PublicKey key = p256Key(csr.getSubjectPublicKeyInfo());
    verifySignature(csr);
    SpiffeId id = identity(csr);
    if (!id.trustDomain().equals(trustDomain)) {
      throw new Denial(Denial.Reason.FOREIGN_TRUST_DOMAIN,
          "CSR asks for " + id + " of trust domain " + id.trustDomain() + "; this CA issues for " + trustDomain + " only");
    }
    return new Checked(id, key);
  }

  private static PKCS10CertificationRequest parse(String pem) throws Denial {
    if (pem.isBlank()) {
      throw new Denial(Denial.Reason.MALFORMED_CSR, "request has no CSR");
    }
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object first = parser.readObject();
      if (!(first instanceof PKCS10CertificationRequest csr)) {
        throw new Denial(Denial.Reason.MALFORMED_CSR, "CSR is not a PEM CERTIFICATE REQUEST"
            + (first == null ? "" : " (found " + first.getClass().getSimpleName() + ")"));
      }
      if (parser.readObject() != null) {
        throw new Denial(Denial.Reason.MALFORMED_CSR, "CSR text holds more than one PEM object");
      }
      // Touches the structure so that lazily parsed garbage fails here.
      csr.getSubjectPublicKeyInfo().getAlgorithm();
      csr.getAttributes();
      return csr;
    } catch (Denial d) {
      throw d;
    } catch (Exception e) {
      throw new Denial(Denial.Reason.MALFORMED_CSR, "CSR does not parse: " + e.getMessage());
    }
  }

  private static PublicKey p256Key(SubjectPublicKeyInfo spki) throws Denial {
    AlgorithmIdentifier algorithm = spki.getAlgorithm();
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm.getAlgorithm())) {
      throw new Denial(Denial.Reason.UNSUPPORTED_KEY,
          "CSR key is " + keyName(algorithm.getAlgorithm()) + "; only ECDSA P-256 keys are accepted");
    }
    ASN1Encodable params = algorithm.getParameters();
    if (!(params instanceof ASN1ObjectIdentifier curve) || !SECObjectIdentifiers.secp256r1.equals(curve)) {
      throw new Denial(Denial.Reason.UNSUPPORTED_KEY,
          "CSR key is on curve " + (params instanceof ASN1ObjectIdentifier oid ? oid.getId() : "with explicit parameters")
              + "; only ECDSA P-256 (secp256r1) keys are accepted");
    }
    try {
      PublicKey key = new JcaPEMKeyConverter().setProvider(BC).getPublicKey(spki);
      // Re-encoded by Bouncy Castle: uncompressed point, named curve, validated on the curve.
      return new JcaPEMKeyConverter().getPublicKey(SubjectPublicKeyInfo.getInstance(key.getEncoded()));
    } catch (Exception e) {
      throw new Denial(Denial.Reason.UNSUPPORTED_KEY, "CSR's P-256 key is invalid: " + e.getMessage());
    }
  }

  private static void verifySignature(PKCS10CertificationRequest csr) throws Denial {
    boolean valid;
    try {
      valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(csr.getSubjectPublicKeyInfo()));
    } catch (Exception e) {
      throw new Denial(Denial.Reason.BAD_CSR_SIGNATURE, "CSR signature cannot be checked: " + e.getMessage());
    }
    if (!valid) {
      throw new Denial(Denial.Reason.BAD_CSR_SIGNATURE, "CSR signature does not verify with the CSR's key");
    }
  }

  private static SpiffeId identity(PKCS10CertificationRequest csr) throws Denial {
    Attribute[] requests = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
    if (requests.length == 0) {
      throw new Denial(Denial.Reason.BAD_SAN, "CSR has no subjectAltName (no extension request)");
    }
    if (requests.length > 1 || requests[0].getAttrValues().size() != 1) {
      throw new Denial(Denial.Reason.MALFORMED_CSR, "CSR has more than one extension request");
    }
    GeneralNames names;
    try {
      Extensions extensions = Extensions.getInstance(requests[0].getAttrValues().getObjectAt(0));
      names = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
    } catch (RuntimeException e) {
      throw new Denial(Denial.Reason.MALFORMED_CSR, "CSR extension request does not parse: " + e.getMessage());
    }
    if (names == null) {
      throw new Denial(Denial.Reason.BAD_SAN, "CSR has no subjectAltName");
    }
    GeneralName[] all = names.getNames();
    if (all.length != 1) {
      throw new Denial(Denial.Reason.BAD_SAN, "CSR must carry exactly one subjectAltName, found " + all.length);
    }
    GeneralName san = all[0];
    if (san.getTagNo() != GeneralName.uniformResourceIdentifier) {
      throw new Denial(Denial.Reason.BAD_SAN, "CSR subjectAltName is a " + sanType(san.getTagNo()) + ", not a URI");
    }
    String uri = ((ASN1String) san.getName()).getString();
    try {
      return SpiffeId.parse(uri);
    } catch (IllegalArgumentException e) {
      throw new Denial(Denial.Reason.BAD_SAN, "CSR subjectAltName is not a mesh SPIFFE ID: " + e.getMessage());
    }
  }

  private static String keyName(ASN1ObjectIdentifier oid) {
    if (PKCSObjectIdentifiers.rsaEncryption.equals(oid)) {
      return "RSA";
    }
    if (org.bouncycastle.asn1.edec.EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
      return "Ed25519";
    }
    return "of algorithm " + oid.getId();
  }

  private static String sanType(int tag) {
    switch (tag) {
      case GeneralName.dNSName:
        return "DNS name";
      case GeneralName.iPAddress:
        return "IP address";
      case GeneralName.rfc822Name:
        return "e-mail address";
      case GeneralName.otherName:
        return "otherName";
      case GeneralName.directoryName:
        return "directory name";
      default:
        return "name of type " + tag;
    }
  }
}

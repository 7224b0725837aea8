package dev.capstan.core.ca;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.Pem;
import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Certificate signing requests as the CA wants them: empty subject, one URI SAN, signed with the key. */
public final class Csrs {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();

  private Csrs() {}

  /** A PEM PKCS#10 request for {@code id}, signed with {@code key} (SHA256withECDSA). */
  public static String create(SpiffeId id, KeyPair key) {
    try {
      Extensions extensions = new Extensions(new Extension(Extension.subjectAlternativeName, true,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri())).getEncoded()));
      var csr = new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), key.getPublic())
          .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions)
          .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(key.getPrivate()));
      return Pem.encode(csr);
    } catch (Exception e) {
      throw new IllegalStateException("cannot build a CSR for " + id + ": " + e.getMessage(), e);
    }
  }
}

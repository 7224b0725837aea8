package dev.capstan.core.testing;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.core.tls.TrustBundle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** A throwaway mesh CA for tests: a root, leaves on demand, and the mesh TLS built on it. */
public final class TestCa {

  public static final String TRUST_DOMAIN = "cluster.local";

  private final Issuer issuer;

  public TestCa() {
    this(TRUST_DOMAIN);
  }

  public TestCa(String trustDomain) {
    this.issuer = Issuer.selfSignedRoot(trustDomain, Instant.now(), Duration.ofDays(1));
  }

  public Issuer issuer() {
    return issuer;
  }

  public TrustBundle bundle() {
    return new TrustBundle(List.of(issuer.certificate()));
  }

  public CertifiedKey leaf(String namespace, String serviceAccount) {
    return issuer.issue(SpiffeId.of(TRUST_DOMAIN, namespace, serviceAccount), Instant.now(), Duration.ofHours(1));
  }

  public MeshTls tls(TlsEngine engine) {
    return new MeshTls(new SpiffeTrustManager(TRUST_DOMAIN, bundle(), Clock.systemUTC()), engine);
  }
}

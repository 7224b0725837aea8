package dev.capstan.core.tls;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.identity.SpiffeVerificationException;
import dev.capstan.core.identity.SpiffeVerificationException.Reason;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies a peer's chain against the mesh trust bundle and requires a leaf that names exactly one
 * SPIFFE ID of the mesh's trust domain. Host names are never checked: HBONE has no SNI, the peer's
 * identity is checked by the caller against the identity it expected.
 */
public final class SpiffeTrustManager extends X509ExtendedTrustManager {

  private final String trustDomain;
  private final TrustBundle bundle;
  private final Clock clock;

  public SpiffeTrustManager(String trustDomain, TrustBundle bundle, Clock clock) {
    this.trustDomain = trustDomain;
    this.bundle = bundle;
    this.clock = clock;
  }

  /** Verifies a chain (leaf first) and returns the leaf's identity. */
  public SpiffeId verify(X509Certificate[] chain) throws SpiffeVerificationException {
    if (chain == null || chain.length == 0) {
      throw new SpiffeVerificationException(Reason.NO_CERTIFICATE, "peer presented no certificate");
    }
    List<Certificate> path = new ArrayList<>();
    for (X509Certificate cert : chain) {
      if (!isAnchor(cert)) {
        path.add(cert);
      }
    }
    try {
      CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
      PKIXParameters params = new PKIXParameters(bundle.anchors());
      params.setRevocationEnabled(false);
      params.setDate(Date.from(clock.instant()));
      CertPathValidator.getInstance("PKIX").validate(certPath, params);
    } catch (CertPathValidatorException e) {
      if (e.getReason() == CertPathValidatorException.BasicReason.EXPIRED
          || e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
        throw new SpiffeVerificationException(Reason.EXPIRED, "certificate not valid now: " + e.getMessage());
      }
      throw new SpiffeVerificationException(
          Reason.UNTRUSTED_CHAIN, "chain does not lead to the mesh trust bundle: " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new SpiffeVerificationException(Reason.UNTRUSTED_CHAIN, "chain verification failed: " + e.getMessage());
    }
    if (chain[0].getBasicConstraints() != -1) {
      throw new SpiffeVerificationException(Reason.LEAF_IS_CA, "peer's leaf certificate is a CA certificate");
    }
    SpiffeId id = SpiffeId.fromCertificate(chain[0]);
    if (!trustDomain.equals(id.trustDomain())) {
      throw new SpiffeVerificationException(
          Reason.FOREIGN_TRUST_DOMAIN,
          "peer identity " + id + " is not in trust domain " + trustDomain);
    }
    return id;
  }

  /** The verified identity of the peer of an established session. */
  public static SpiffeId peerIdentity(SSLSession session) throws SpiffeVerificationException {
    try {
      Certificate[] certs = session.getPeerCertificates();
      if (certs.length == 0 || !(certs[0] instanceof X509Certificate leaf)) {
        throw new SpiffeVerificationException(Reason.NO_CERTIFICATE, "peer presented no X.509 certificate");
      }
      return SpiffeId.fromCertificate(leaf);
    } catch (SSLPeerUnverifiedException e) {
      throw new SpiffeVerificationException(Reason.NO_CERTIFICATE, "peer presented no certificate");
    }
  }

  private boolean isAnchor(X509Certificate cert) {
    return bundle.roots().contains(cert);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return bundle.roots().toArray(new X509Certificate[0]);
  }
}

package dev.capstan.core.ca;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.TrustBundle;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies the CA server: its chain leads to the mesh root (the current trust bundle), and its
 * leaf names the expected server, by SPIFFE ID (the controller's) or by DNS name.
 */
final class CaServerTrust extends X509ExtendedTrustManager {

  private static final int DNS_SAN = 2;

  private final TrustBundle bundle;
  private final CaClient.ServerCheck expected;
  private final Clock clock;

  CaServerTrust(TrustBundle bundle, CaClient.ServerCheck expected, Clock clock) {
    this.bundle = bundle;
    this.expected = expected;
    this.clock = clock;
  }

  void verify(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("CA server presented no certificate");
    }
    List<X509Certificate> roots = bundle.roots();
    List<X509Certificate> path = new ArrayList<>();
    for (X509Certificate cert : chain) {
      if (!roots.contains(cert)) {
        path.add(cert);
      }
    }
    try {
      Set<TrustAnchor> anchors = roots.stream().map(r -> new TrustAnchor(r, null)).collect(Collectors.toSet());
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      params.setDate(Date.from(clock.instant()));
      CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    } catch (GeneralSecurityException e) {
      throw new CertificateException("CA server's certificate does not lead to the mesh root: " + e.getMessage(), e);
    }
    X509Certificate leaf = chain[0];
    if (expected instanceof CaClient.ServerCheck.ById byId) {
      SpiffeId actual = SpiffeId.fromCertificate(leaf);
      if (!actual.equals(byId.identity())) {
        throw new CertificateException("CA server is " + actual + ", expected " + byId.identity());
      }
    } else if (expected instanceof CaClient.ServerCheck.ByName byName) {
      if (!dnsNames(leaf).contains(byName.dnsName().toLowerCase(Locale.ROOT))) {
        throw new CertificateException("CA server's certificate does not name " + byName.dnsName());
      }
    }
  }

  private static List<String> dnsNames(X509Certificate leaf) throws CertificateException {
    Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
    List<String> out = new ArrayList<>();
    if (sans != null) {
      for (List<?> san : sans) {
        if (san.size() >= 2 && Integer.valueOf(DNS_SAN).equals(san.get(0))) {
          out.add(String.valueOf(san.get(1)).toLowerCase(Locale.ROOT));
        }
      }
    }
    return out;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("the CA client does not accept client certificates");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    throw new CertificateException("the CA client does not accept client certificates");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    throw new CertificateException("the CA client does not accept client certificates");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return bundle.roots().toArray(new X509Certificate[0]);
  }
}

package dev.capstan.core.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;

/**
 * Builds the SSL contexts of HBONE: TLS 1.3 only, ALPN {@code h2} only, client certificates
 * required, peers verified by {@link SpiffeTrustManager}, no SNI and no host name check. Both
 * sides check after the handshake that {@code h2} was negotiated (BoringSSL cannot fail the
 * handshake itself on a missing ALPN match).
 */
public final class MeshTls {

  private static final String TLS13 = "TLSv1.3";
  private static final ApplicationProtocolConfig ALPN_H2 =
      new ApplicationProtocolConfig(
          Protocol.ALPN,
          SelectorFailureBehavior.NO_ADVERTISE,
          SelectedListenerFailureBehavior.ACCEPT,
          ApplicationProtocolNames.HTTP_2);

  private final SpiffeTrustManager trustManager;
  private final SslProvider provider;

  public MeshTls(SpiffeTrustManager trustManager, TlsEngine engine) {
    this.trustManager = trustManager;
    this.provider = engine.provider();
  }

  /** The provider in use (for logs and metrics). */
  public SslProvider provider() {
    return provider;
  }

  public SpiffeTrustManager trustManager() {
    return trustManager;
  }

  /** The server side of HBONE, presenting {@code key}'s identity. */
  public SslContext server(CertifiedKey key) throws SSLException {
    return SslContextBuilder.forServer(key.key(), key.chain().toArray(new X509Certificate[0]))
        .sslProvider(provider)
        .protocols(TLS13)
        .clientAuth(ClientAuth.REQUIRE)
        .trustManager(trustManager)
        .applicationProtocolConfig(ALPN_H2)
        .build();
  }

  /** The client side of HBONE, presenting {@code key}'s identity. */
  public SslContext client(CertifiedKey key) throws SSLException {
    return SslContextBuilder.forClient()
        .keyManager(key.key(), key.chain().toArray(new X509Certificate[0]))
        .sslProvider(provider)
        .protocols(TLS13)
        .trustManager(trustManager)
        .applicationProtocolConfig(ALPN_H2)
        .build();
  }
}

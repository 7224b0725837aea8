package dev.capstan.core.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/** Which TLS implementation carries HBONE: BoringSSL through netty-tcnative, or the JDK's. */
public enum TlsEngine {
  /** BoringSSL when it loads on this platform, the JDK otherwise. */
  AUTO,
  OPENSSL,
  JDK;

  /** The Netty provider for this choice; OPENSSL fails if BoringSSL cannot be loaded. */
  public SslProvider provider() {
    return switch (this) {
      case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
      case OPENSSL -> {
        if (!OpenSsl.isAvailable()) {
          throw new IllegalStateException("OpenSSL engine requested but not available: " + OpenSsl.unavailabilityCause());
        }
        yield SslProvider.OPENSSL;
      }
      case JDK -> SslProvider.JDK;
    };
  }
}

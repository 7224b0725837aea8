package dev.capstan.core.hbone;

import dev.capstan.core.identity.SpiffeVerificationException;
import java.util.Locale;

/** Names the reason of a failed TLS handshake for logs and metric labels. */
public final class HandshakeFailures {

  private HandshakeFailures() {}

  /** A metric label for the failure. */
  public static String reason(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SpiffeVerificationException e) {
        return e.reason().label();
      }
    }
    String text = describe(failure).toLowerCase(Locale.ROOT);
    if (text.contains("certificate_required")
        || text.contains("peer_did_not_return_a_certificate")
        || text.contains("did not return a certificate")
        || text.contains("empty client certificate chain")
        || text.contains("empty server certificate chain")) {
      return "no_certificate";
    }
    if (text.contains("timed out")) {
      return "timeout";
    }
    if (text.contains("alpn") || text.contains("application protocol") || text.contains("no_application_protocol")) {
      return "no_alpn_h2";
    }
    if (text.contains("protocol") || text.contains("version")) {
      return "protocol";
    }
    return "handshake";
  }

  /** The messages of the cause chain, outermost first. */
  public static String describe(Throwable failure) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (b.length() > 0) {
        b.append(": ");
      }
      b.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
      if (t.getCause() == t) {
        break;
      }
    }
    return b.toString();
  }
}

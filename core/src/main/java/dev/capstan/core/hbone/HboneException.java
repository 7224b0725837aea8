package dev.capstan.core.hbone;

/**
 * Why an HBONE tunnel could not be opened. Stackless: it travels through futures on the data
 * plane, where a stack trace costs time and says nothing.
 */
public final class HboneException extends Exception {

  /** What went wrong, as a metric label. */
  public enum Kind {
    CONNECT_FAILED("connect_failed"),
    HANDSHAKE_FAILED("handshake_failed"),
    WRONG_PEER_IDENTITY("wrong_peer_identity"),
    NO_ALPN_H2("no_alpn_h2"),
    STREAM_FAILED("stream_failed"),
    REJECTED("rejected");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private final Kind kind;
  private final int status;

  public HboneException(Kind kind, int status, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.status = status;
  }

  public HboneException(Kind kind, String message) {
    this(kind, 0, message);
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status the peer answered, for {@link Kind#REJECTED}; 0 otherwise. */
  public int status() {
    return status;
  }
}

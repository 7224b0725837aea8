package dev.capstan.core.ca;

/** Bytes that are not a well-formed CA protocol message; the message says what is wrong. */
public final class MalformedMessageException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public MalformedMessageException(String message, Throwable cause) {
    super(message, cause);
  }
}

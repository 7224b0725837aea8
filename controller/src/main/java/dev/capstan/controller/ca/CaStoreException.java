package dev.capstan.controller.ca;

/** The CA's key and certificates cannot be loaded, created or stored; the message says where and why. */
public final class CaStoreException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public CaStoreException(String message) {
    super(message);
  }

  public CaStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

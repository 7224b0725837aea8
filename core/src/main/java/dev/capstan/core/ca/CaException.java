package dev.capstan.core.ca;

import io.vertx.grpc.common.GrpcStatus;

/**
 * A certificate request that did not give a usable certificate: the CA's refusal (its gRPC status
 * and message), an unreachable CA ({@code UNAVAILABLE}), or an answer that failed our checks.
 */
public final class CaException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient GrpcStatus status;

  public CaException(GrpcStatus status, String message) {
    super(message);
    this.status = status;
  }

  public CaException(GrpcStatus status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The gRPC status: the CA's, or {@code UNAVAILABLE}, {@code INTERNAL}, {@code FAILED_PRECONDITION} for local failures. */
  public GrpcStatus status() {
    return status;
  }

  @Override
  public String toString() {
    return "CA " + status + ": " + getMessage();
  }
}

package dev.capstan.controller.ca;

import io.vertx.grpc.common.GrpcStatus;

/**
 * Why the CA refuses a request. Each {@link Reason} maps, in this one place, to the gRPC status
 * the caller sees and the {@code reason} label of {@code capstan_ca_requests_total}; the message
 * (the detail) goes to the caller and the log.
 */
public final class Denial extends Exception {

  private static final long serialVersionUID = 1L;

  /** A bounded set of reasons: the metric label and the gRPC status. */
  public enum Reason {
    /** No {@code authorization: Bearer} header. */
    MISSING_TOKEN("missing_token", GrpcStatus.UNAUTHENTICATED),
    /** A token the authenticator does not accept (unknown, forged, expired, wrong audience). */
    INVALID_TOKEN("invalid_token", GrpcStatus.UNAUTHENTICATED),
    /** A valid token of someone who is neither a node agent nor a waypoint. */
    NOT_NODE_AGENT("not_node_agent", GrpcStatus.PERMISSION_DENIED),
    /** The token names a pod that does not exist (any more) or is not scheduled. */
    UNKNOWN_POD("unknown_pod", GrpcStatus.UNAUTHENTICATED),
    /** The token names a pod whose uid is not the pod's current one (a recreated pod). */
    POD_UID_MISMATCH("pod_uid_mismatch", GrpcStatus.UNAUTHENTICATED),
    /** The token's node disagrees with the node its pod runs on. */
    NODE_MISMATCH("node_mismatch", GrpcStatus.UNAUTHENTICATED),
    /** The authenticator could not reach what it asks (API server down): retry later. */
    AUTHENTICATOR_UNAVAILABLE("authenticator_unavailable", GrpcStatus.UNAVAILABLE),
    /** The request message itself is not valid protobuf. */
    MALFORMED_REQUEST("malformed_request", GrpcStatus.INVALID_ARGUMENT),
    /** The CSR is not one parsable PEM PKCS#10 request. */
    MALFORMED_CSR("malformed_csr", GrpcStatus.INVALID_ARGUMENT),
    /** The CSR's signature does not verify with its own key. */
    BAD_CSR_SIGNATURE("bad_csr_signature", GrpcStatus.INVALID_ARGUMENT),
    /** The CSR's key is not ECDSA P-256. */
    UNSUPPORTED_KEY("unsupported_key", GrpcStatus.INVALID_ARGUMENT),
    /** Not exactly one SAN, a SAN that is not a URI, or a URI that is not a SPIFFE ID. */
    BAD_SAN("bad_san", GrpcStatus.INVALID_ARGUMENT),
    /** A SPIFFE ID of another trust domain. */
    FOREIGN_TRUST_DOMAIN("foreign_trust_domain", GrpcStatus.PERMISSION_DENIED),
    /**
     * A valid token of a Waypoint's service account whose pod is not one of that Waypoint's (no
     * {@code capstan.dev/waypoint} label naming a Waypoint of that account), or a waypoint
     * bootstrap token naming a Waypoint that is not declared.
     */
    NOT_WAYPOINT("not_waypoint", GrpcStatus.PERMISSION_DENIED),
    /** A caller that may get only its own identity (a waypoint) asked for another. */
    NOT_OWN_IDENTITY("not_own_identity", GrpcStatus.PERMISSION_DENIED),
    /** No workload of that namespace and service account is scheduled on the caller's node. */
    NOT_ON_NODE("not_on_node", GrpcStatus.PERMISSION_DENIED),
    /** A negative validity. */
    BAD_VALIDITY("bad_validity", GrpcStatus.INVALID_ARGUMENT),
    /** A fault of the CA itself. */
    INTERNAL("internal", GrpcStatus.INTERNAL);

    private final String label;
    private final GrpcStatus status;

    Reason(String label, GrpcStatus status) {
      this.label = label;
      this.status = status;
    }

    /** The metric label value. */
    public String label() {
      return label;
    }

    /** The gRPC status the caller gets. */
    public GrpcStatus status() {
      return status;
    }
  }

  private final Reason reason;

  public Denial(Reason reason, String detail) {
    super(detail, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /** What the caller is told: the reason label and the detail. */
  public String statusMessage() {
    return reason.label() + ": " + getMessage();
  }
}

package dev.capstan.nodeagent.metrics;

import io.micrometer.core.instrument.Tags;

/**
 * Who talked to whom over one proxied connection, in Istio's standard label schema.
 *
 * @param reporter {@code source} (outbound) or {@code destination} (inbound)
 * @param sourceWorkload source workload name
 * @param sourceNamespace source namespace
 * @param sourcePrincipal source SPIFFE ID
 * @param destinationWorkload destination workload name
 * @param destinationNamespace destination namespace
 * @param destinationPrincipal destination SPIFFE ID
 * @param destinationService {@code name.namespace} of the service dialed, or {@code unknown}
 * @param security {@code mutual_tls}, or {@code none} for plaintext from outside the mesh and passthrough
 */
public record ConnectionLabels(
    String reporter,
    String sourceWorkload,
    String sourceNamespace,
    String sourcePrincipal,
    String destinationWorkload,
    String destinationNamespace,
    String destinationPrincipal,
    String destinationService,
    String security) {

  /** A connection carried over mutual TLS (or between two pods of one node, with both identities known). */
  public ConnectionLabels(
      String reporter, String sourceWorkload, String sourceNamespace, String sourcePrincipal,
      String destinationWorkload, String destinationNamespace, String destinationPrincipal, String destinationService) {
    this(reporter, sourceWorkload, sourceNamespace, sourcePrincipal, destinationWorkload, destinationNamespace,
        destinationPrincipal, destinationService, "mutual_tls");
  }

  /** The same connection with no transport security (plaintext from outside the mesh, passthrough). */
  public ConnectionLabels plaintext() {
    return new ConnectionLabels(reporter, sourceWorkload, sourceNamespace, sourcePrincipal, destinationWorkload,
        destinationNamespace, destinationPrincipal, destinationService, "none");
  }

  Tags tags() {
    return Tags.of(
        "reporter", reporter,
        "source_workload", sourceWorkload,
        "source_workload_namespace", sourceNamespace,
        "source_principal", sourcePrincipal,
        "destination_workload", destinationWorkload,
        "destination_workload_namespace", destinationNamespace,
        "destination_principal", destinationPrincipal,
        "destination_service", destinationService,
        "request_protocol", "tcp",
        "connection_security_policy", security);
  }
}

package dev.capstan.core.model;

import java.util.Objects;

/**
 * A workload backing a service.
 *
 * @param workloadUid uid of the backing workload
 * @param healthy whether the endpoint may receive new connections
 */
public record Endpoint(String workloadUid, boolean healthy) {

  public Endpoint {
    Objects.requireNonNull(workloadUid, "workloadUid");
  }
}

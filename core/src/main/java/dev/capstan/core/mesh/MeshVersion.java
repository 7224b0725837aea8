package dev.capstan.core.mesh;

import java.util.Objects;

/**
 * The version of the mesh config in Hazelcast, written by the leader after the entries of a change.
 *
 * @param sequence increases by one with every published change, across leaders
 * @param hash content hash of the model the leader published
 * @param publishedAtMillis wall-clock time of the publication
 * @param publisher the controller member that published it
 * @param entries how many entries the workload, service, policy, waypoint, route and TrafficPolicy
 *     maps hold at this version, so an agent can tell it missed an event
 */
public record MeshVersion(long sequence, String hash, long publishedAtMillis, String publisher, Counts entries) {

  /** Entry counts of the model maps. */
  public record Counts(int workloads, int services, int policies, int waypoints, int routes, int trafficPolicies) {
    /** Counts of the first three maps, none in the waypoint, route and TrafficPolicy maps. */
    public Counts(int workloads, int services, int policies) {
      this(workloads, services, policies, 0, 0, 0);
    }
  }

  public MeshVersion {
    Objects.requireNonNull(hash, "hash");
    Objects.requireNonNull(publisher, "publisher");
    Objects.requireNonNull(entries, "entries");
  }

  /** How an agent reports the version it runs, e.g. {@code 42-3f9a0c1b2d4e}. */
  public String label() {
    return sequence + "-" + hash;
  }
}

package dev.capstan.cli.demo;

import dev.capstan.cli.remote.Prometheus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code capstan demo} shows at the end of its traffic: the frontend's counts and latencies,
 * the canary split it observed, the identities the servers' side saw (from the metrics of agent
 * node-b and of the waypoint), and the bytes each tenant (namespace) moved through the agents.
 *
 * @param identities one row per (server, peer identity) seen
 * @param bytesPerTenant namespace → bytes the agents carried for it
 */
public record Summary(long requests, long ok, long failed, double seconds, double p50Millis, double p99Millis,
    Map<String, Long> versions, Map<String, Long> failures, List<SeenIdentity> identities,
    Map<String, Long> bytesPerTenant) {

  /** {@code server} was reached by {@code peer} (a SPIFFE ID), as {@code reporter} saw it. */
  public record SeenIdentity(String server, String peer, String reporter) {}

  /** A run's summary: the frontend's {@code result} and what the metrics said. */
  public static Summary of(Frontend.Result r, List<SeenIdentity> identities, Map<String, Long> bytesPerTenant) {
    return new Summary(r.requests(), r.ok(), r.failed(), r.elapsed().toNanos() / 1e9,
        r.latencyMicros().getTotalCount() == 0 ? 0 : r.latencyMicros().getValueAtPercentile(50) / 1000.0,
        r.latencyMicros().getTotalCount() == 0 ? 0 : r.latencyMicros().getValueAtPercentile(99) / 1000.0,
        r.versions(), r.failures(), identities, bytesPerTenant);
  }

  /** Percentage of the successful requests served by {@code version}. */
  public double splitPercent(String version) {
    long served = versions.values().stream().mapToLong(Long::longValue).sum();
    return served == 0 ? 0 : 100.0 * versions.getOrDefault(version, 0L) / served;
  }

  public double successPercent() {
    return requests == 0 ? 0 : 100.0 * ok / requests;
  }

  /** {@link #identities(List, List, String)} for the loopback demo's node-b. */
  public static List<SeenIdentity> identities(List<Prometheus.Sample> agentB, List<Prometheus.Sample> waypoint) {
    return identities(agentB, waypoint, "node-b");
  }

  /**
   * The identities as the metrics tell them: the reviews node's agent's {@code
   * istio_tcp_connections_opened_total} (reporter destination: the mTLS peer of each tunnel into a
   * reviews pod) and the waypoint's {@code istio_requests_total} (the original client of each
   * request it routed).
   *
   * @param node the reviews pods' node, as the rows name it ({@code agent <node> (mTLS peer)})
   */
  public static List<SeenIdentity> identities(List<Prometheus.Sample> agentB, List<Prometheus.Sample> waypoint, String node) {
    List<SeenIdentity> rows = new ArrayList<>();
    Map<String, Boolean> seen = new TreeMap<>();
    for (Prometheus.Sample s : agentB) {
      if (s.name().startsWith("istio_tcp_connections_opened") && s.label("reporter").equals("destination") && s.value() > 0) {
        String server = s.label("destination_workload_namespace") + "/" + s.label("destination_workload");
        seen.put(server + " " + s.label("source_principal") + " agent " + node + " (mTLS peer)", true);
      }
    }
    for (Prometheus.Sample s : waypoint) {
      if (s.name().startsWith("istio_requests_total") && s.value() > 0) {
        String server = s.label("destination_service_namespace") + "/" + s.label("destination_service_name");
        seen.put(server + " " + s.label("source_principal") + " waypoint (request's client)", true);
      }
    }
    for (String key : seen.keySet()) {
      String[] parts = key.split(" ", 3);
      rows.add(new SeenIdentity(parts[0], parts[1], parts[2]));
    }
    return rows;
  }

  /**
   * Bytes per tenant: {@code capstan_tenant_read_bytes_total} (what each agent read for a namespace,
   * the quantity its flow-control budget charges) summed over the agents, by namespace.
   */
  public static Map<String, Long> bytesPerTenant(List<List<Prometheus.Sample>> agents) {
    Map<String, Long> out = new TreeMap<>();
    for (List<Prometheus.Sample> agent : agents) {
      for (Prometheus.Sample s : agent) {
        if (s.name().startsWith("capstan_tenant_read_bytes")) {
          out.merge(s.label("tenant"), (long) s.value(), Long::sum);
        }
      }
    }
    return out;
  }

  /** The table the demo prints. */
  public String render() {
    StringBuilder b = new StringBuilder();
    b.append("─── summary ──────────────────────────────────────────────────────────────\n");
    row(b, "requests", String.format(Locale.ROOT, "%d in %.1f s (%.0f/s)", requests, seconds, seconds > 0 ? requests / seconds : 0));
    row(b, "success rate", String.format(Locale.ROOT, "%.2f %% (%d ok, %d failed)", successPercent(), ok, failed));
    failures.forEach((reason, n) -> row(b, "  failed", n + " × " + reason));
    row(b, "latency p50 / p99", String.format(Locale.ROOT, "%.2f ms / %.2f ms (frontend → reviews, through 2 agents and the waypoint)", p50Millis, p99Millis));
    StringBuilder split = new StringBuilder();
    versions.forEach((v, n) -> split.append(split.length() == 0 ? "" : ", ")
        .append(String.format(Locale.ROOT, "%s %.1f %% (%d)", v, splitPercent(v), n)));
    row(b, "canary split", split + "   (observed; the weights are the HTTPRoute's)");
    b.append("identities seen by the servers' side:\n");
    for (SeenIdentity id : identities) {
      b.append(String.format(Locale.ROOT, "  %-22s ← %-48s %s%n", id.server(), id.peer(), id.reporter()));
    }
    b.append("bytes per tenant (agents' capstan_tenant_read_bytes):\n");
    bytesPerTenant.forEach((tenant, bytes) -> b.append(String.format(Locale.ROOT, "  %-22s %,d bytes%n", tenant, bytes)));
    return b.toString();
  }

  private static void row(StringBuilder b, String key, String value) {
    b.append(String.format(Locale.ROOT, "%-20s %s%n", key, value));
  }
}

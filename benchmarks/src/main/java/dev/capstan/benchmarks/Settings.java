package dev.capstan.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What one run of {@link ControlPlaneBench} simulates, from {@code --name=value} arguments.
 *
 * @param workloads pods in the mesh
 * @param services Services (one per deployment; {@code workloads} must be a multiple)
 * @param nodes nodes, and so node agents (one Hazelcast client each)
 * @param members controller replicas (embedded Hazelcast members)
 * @param changes single changes applied one at a time for the propagation figures
 * @param probeAgents extra agents started on a loaded mesh to measure one agent's heap
 * @param perPodClients clients of the per-pod (sidecar-style) sample; 0 skips it
 * @param perPodChanges changes applied with the per-pod sample connected, for its egress
 * @param soloChanges changes applied to one agent alone (no CPU shared with other agents); 0 skips it
 * @param slopeWorkloads the second mesh size for the bytes-per-workload slope; 0 skips it
 * @param mesh whether to run the mesh phases (0 runs the CSR figures only)
 * @param csrSeconds measuring time of each CSR figure (after as long a warm-up); 0 skips them
 * @param grpcClients CA clients in the gRPC CSR figure; 0 skips it
 * @param checkEvery the agents' anti-entropy check period (the node agent's is 5 s)
 * @param seed of the synthetic cluster
 * @param out where the run's figures go (JSON)
 */
record Settings(
    int workloads,
    int services,
    int nodes,
    int members,
    int changes,
    int probeAgents,
    int perPodClients,
    int perPodChanges,
    int soloChanges,
    int slopeWorkloads,
    boolean mesh,
    int csrSeconds,
    int grpcClients,
    Duration checkEvery,
    long seed,
    Path out) {

  private static final Map<String, String> DEFAULTS = Map.ofEntries(
      Map.entry("workloads", "5000"),
      Map.entry("services", "1000"),
      Map.entry("nodes", "50"),
      Map.entry("members", "1"),
      Map.entry("changes", "200"),
      Map.entry("probe-agents", "25"),
      Map.entry("per-pod-clients", "100"),
      Map.entry("per-pod-changes", "5"),
      Map.entry("solo-changes", "50"),
      Map.entry("slope-workloads", "10000"),
      Map.entry("mesh", "1"),
      Map.entry("csr-seconds", "5"),
      Map.entry("grpc-clients", "4"),
      Map.entry("check-every-ms", "5000"),
      Map.entry("seed", "3"),
      Map.entry("out", "control-plane.json"));

  static Settings parse(String[] args) {
    Map<String, String> values = new HashMap<>(DEFAULTS);
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0 || !DEFAULTS.containsKey(arg.substring(2, eq))) {
        throw new IllegalArgumentException("unknown argument '" + arg + "'; expected --name=value with name one of "
            + Set.copyOf(DEFAULTS.keySet()));
      }
      values.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    Settings s = new Settings(
        number(values, "workloads", 1), number(values, "services", 1), number(values, "nodes", 1),
        number(values, "members", 1), number(values, "changes", 0), number(values, "probe-agents", 1),
        number(values, "per-pod-clients", 0), number(values, "per-pod-changes", 1), number(values, "solo-changes", 0),
        number(values, "slope-workloads", 0),
        number(values, "mesh", 0) != 0, number(values, "csr-seconds", 0), number(values, "grpc-clients", 0),
        Duration.ofMillis(number(values, "check-every-ms", 100)), number(values, "seed", 0), Path.of(values.get("out")));
    if (s.workloads % s.services != 0) {
      throw new IllegalArgumentException("--workloads=" + s.workloads + " must be a multiple of --services=" + s.services);
    }
    if (s.slopeWorkloads != 0 && (s.slopeWorkloads <= s.workloads || s.slopeWorkloads % (s.workloads / s.services) != 0)) {
      throw new IllegalArgumentException("--slope-workloads=" + s.slopeWorkloads + " must be 0 or larger than --workloads"
          + " and a multiple of the pods per service (" + s.workloads / s.services + ")");
    }
    return s;
  }

  private static int number(Map<String, String> values, String name, int min) {
    String text = values.get(name);
    try {
      int n = Integer.parseInt(text);
      if (n < min) {
        throw new IllegalArgumentException("--" + name + "=" + text + " must be at least " + min);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + "=" + text + " is not a whole number", e);
    }
  }
}

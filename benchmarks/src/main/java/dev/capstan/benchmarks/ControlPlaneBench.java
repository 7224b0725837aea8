package dev.capstan.benchmarks;

import com.hazelcast.internal.serialization.SerializationService;
import com.hazelcast.map.LocalMapStats;
import com.hazelcast.spi.impl.SerializationServiceSupport;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.state.MeshIndex;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The control-plane benchmark of issue 3, one JVM run: a controller (embedded Hazelcast
 * member(s), as production wires them) and one node agent's mesh view per node (real Hazelcast
 * clients, {@link dev.capstan.nodeagent.state.HazelcastMeshView}) in this JVM, on a synthetic
 * Kubernetes-shaped cluster. In order:
 *
 * <ol>
 *   <li>heap of connected but empty views; initial full load of every agent; heap of extra
 *       agents started on the loaded mesh → bytes per workload of one view, and where they go;
 *   <li>propagation: single changes offered one at a time, each timed to the first index of each
 *       agent that contains it; the members' TCP egress over them;
 *   <li>per-pod sample: many more clients (sidecar-style), their memory and egress per change;
 *   <li>a larger mesh: the bytes-per-workload slope, without fixed overhead;
 *   <li>CSRs signed per second, directly and through the CA's gRPC server.
 * </ol>
 *
 * Writes the figures as JSON to {@code --out}; {@code benchmarks/control-plane.sh} runs it several
 * times and renders RESULTS.md.
 */
public final class ControlPlaneBench {

  private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration QUIET = Duration.ofSeconds(2);
  private static final long STARTED = System.nanoTime();

  private final Settings settings;
  private final JsonObject out = new JsonObject();

  private ControlPlaneBench(Settings settings) {
    this.settings = settings;
  }

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.parse(args);
    ControlPlaneBench bench = new ControlPlaneBench(settings);
    bench.run();
    Files.writeString(settings.out(), bench.out.encodePrettily());
    log("wrote %s", settings.out());
    // Hazelcast and Vert.x leave non-daemon threads behind for a while.
    System.exit(0);
  }

  private void run() throws Exception {
    Settings s = settings;
    out.put("settings", new JsonObject().put("workloads", s.workloads()).put("services", s.services())
        .put("nodes", s.nodes()).put("members", s.members()).put("changes", s.changes())
        .put("probeAgents", s.probeAgents()).put("perPodClients", s.perPodClients())
        .put("perPodChanges", s.perPodChanges()).put("soloChanges", s.soloChanges())
        .put("slopeWorkloads", s.slopeWorkloads()).put("checkEveryMs", s.checkEvery().toMillis())
        .put("maxHeapBytes", Runtime.getRuntime().maxMemory()));
    if (s.mesh()) {
      mesh();
    }
    if (s.csrSeconds() > 0) {
      csrs();
    }
  }

  private void mesh() throws Exception {
    Settings s = settings;
    SyntheticCluster cluster = new SyntheticCluster(s.seed(), s.workloads(), s.services(), s.nodes());
    try (Controller controller = new Controller(s.members())) {
      Egress egress = new Egress(controller.ports());
      Reloads reloads = Reloads.attach();
      Memory.Reading bare = Memory.read(true);
      double perAgent;
      try (Agents agents = new Agents(controller, s.nodes(), "node", s.checkEvery())) {
        awaitClients(controller, s.nodes());
        Memory.Reading connected = Memory.read(true);
        double clientBytes = (double) (connected.heapUsed() - bare.heapUsed()) / s.nodes();
        out.put("emptyClientHeapBytes", clientBytes);

        MeshSnapshot initial = cluster.snapshot();
        initialLoad(controller, agents, initial, egress);
        serializedSizes(controller, initial);
        indexRebuild(initial);
        perAgent = viewBytes(controller, agents, initial, connected, bare, clientBytes, egress);

        double idleBefore = idleEgress(egress, s.nodes());
        propagation(controller, agents, cluster, egress, reloads);
        agents.awaitQuiet(QUIET, LOAD_TIMEOUT);
        double idlePerClient = (idleBefore + idleEgress(egress, s.nodes())) / 2;
        agents.awaitQuiet(QUIET, LOAD_TIMEOUT);
        out.put("idleEgressBytesPerSecondPerClient", idlePerClient);
        netOfIdle(idlePerClient * s.nodes());
        if (s.perPodClients() > 0) {
          perPod(controller, agents, cluster, egress, perAgent);
        }
      }
      if (s.soloChanges() > 0) {
        solo(controller, cluster);
      }
      if (s.slopeWorkloads() > 0) {
        slope(controller, cluster, perAgent);
      }
    }
  }

  /** Every agent starts empty (no version yet); the first offer loads them all. */
  private void initialLoad(Controller controller, Agents agents, MeshSnapshot initial, Egress egress) throws Exception {
    int n = initial.workloads().size();
    Egress.Sample before = egress.sample();
    agents.arm(index -> index.snapshot().workloads().size() == n, initial.version());
    controller.offer(initial);
    Agents.Arrivals load = agents.await(LOAD_TIMEOUT);
    require(load.complete(), "not every agent loaded the initial mesh within " + LOAD_TIMEOUT);
    Egress.Sample sent = egress.sample().minus(before);
    out.put("initialLoadMs", load.lastMillis());
    out.put("initialLoadEgressBytesPerAgent", (double) sent.sent() / agents.size());
    log("initial load of %d agents: %.0f ms, %.0f bytes sent per agent", agents.size(), load.lastMillis(),
        (double) sent.sent() / agents.size());
  }

  /** Compact-serialized sizes of the entries as the leader stores and sends them. */
  private void serializedSizes(Controller controller, MeshSnapshot initial) {
    SerializationService ser = ((SerializationServiceSupport) controller.leader().hazelcast()).getSerializationService();
    long values = 0;
    long keys = 0;
    for (Workload w : initial.workloads()) {
      values += ser.toData(w).totalSize();
      keys += ser.toData(w.ips().get(0)).totalSize();
    }
    long services = 0;
    for (Service svc : initial.services()) {
      services += ser.toData(svc).totalSize() + ser.toData(svc.key()).totalSize();
    }
    MeshMaps.Entries entries = MeshMaps.Entries.of(initial);
    long policies = 0;
    for (var e : entries.policies().entrySet()) {
      policies += ser.toData(e.getValue()).totalSize() + ser.toData(e.getKey()).totalSize();
    }
    int n = initial.workloads().size();
    LocalMapStats stats = controller.leader().hazelcast().getMap(MeshMaps.WORKLOADS).getLocalMapStats();
    out.put("compactWorkloadValueBytes", (double) values / n);
    out.put("compactWorkloadKeyBytes", (double) keys / n);
    out.put("compactMeshBytesPerWorkload", (double) (values + keys + services + policies) / n);
    out.put("memberWorkloadEntryCostBytes", stats.getOwnedEntryCount() == 0 ? 0.0
        : (double) stats.getOwnedEntryMemoryCost() / stats.getOwnedEntryCount());
    log("compact: workload value %.1f B, key %.1f B; whole mesh %.1f B per workload; member-side entry cost %.1f B",
        (double) values / n, (double) keys / n, (double) (values + keys + services + policies) / n,
        out.getDouble("memberWorkloadEntryCostBytes"));
  }

  /** What one agent pays per change on its own thread: rebuilding the whole index. */
  private void indexRebuild(MeshSnapshot snapshot) {
    int rounds = 40;
    double[] ms = new double[rounds];
    for (int i = 0; i < rounds * 2; i++) {
      long start = System.nanoTime();
      MeshIndex index = new MeshIndex(new MeshSnapshot(snapshot.version(), List.copyOf(snapshot.workloads()),
          List.copyOf(snapshot.services()), List.<AuthorizationPolicy>copyOf(snapshot.policies())));
      if (index.version().isEmpty()) {
        throw new IllegalStateException();
      }
      if (i >= rounds) {
        ms[i - rounds] = (System.nanoTime() - start) / 1e6;
      }
    }
    Arrays.sort(ms);
    out.put("indexRebuildMs", ms[rounds / 2]);
    log("MeshIndex rebuild of %d workloads: %.2f ms (median)", snapshot.workloads().size(), ms[rounds / 2]);
  }

  /**
   * Heap of {@code probeAgents} more agents started on the loaded mesh, per agent, less an empty
   * client's: one agent's view. The class histograms give where the bytes go.
   */
  private double viewBytes(Controller controller, Agents agents, MeshSnapshot initial, Memory.Reading connected, Memory.Reading bare,
      double clientBytes, Egress egress) throws Exception {
    int k = settings.probeAgents();
    int n = initial.workloads().size();
    agents.awaitQuiet(QUIET, LOAD_TIMEOUT);
    Memory.Reading before = Memory.read(true);
    Memory.Reading after;
    Egress.Sample sent = egress.sample();
    long start = System.nanoTime();
    try (Agents probes = new Agents(controller, k, "probe", settings.checkEvery())) {
      probes.arm(index -> index.snapshot().workloads().size() == n, null);
      require(probes.await(LOAD_TIMEOUT).complete(), "probe agents did not load");
      double ms = (System.nanoTime() - start) / 1e6;
      sent = egress.sample().minus(sent);
      out.put("joinLoadMs", ms);
      out.put("fullReadEgressBytesPerAgent", (double) sent.sent() / k);
      log("%d agents joining the loaded mesh: all loaded in %.0f ms, %.0f bytes sent per agent", k, ms,
          (double) sent.sent() / k);
      probes.awaitQuiet(QUIET, LOAD_TIMEOUT);
      after = Memory.read(true);
    }
    double perAgent = (double) (after.heapUsed() - before.heapUsed()) / k;
    double view = perAgent - clientBytes;
    out.put("agentHeapBytes", perAgent);
    out.put("viewBytesPerAgent", view);
    out.put("bytesPerWorkload", view / n);
    log("one agent: %.0f B heap (empty client %.0f B), view %.0f B = %.1f B per workload", perAgent, clientBytes, view,
        view / n);

    Map<String, long[]> loaded = after.histogramMinus(before);
    Map<String, long[]> empty = connected.histogramMinus(bare);
    List<JsonObject> rows = new ArrayList<>();
    double total = 0;
    for (Map.Entry<String, long[]> e : loaded.entrySet()) {
      long[] fixed = empty.getOrDefault(e.getKey(), new long[2]);
      double bytes = (double) e.getValue()[1] / k - (double) fixed[1] / settings.nodes();
      double count = (double) e.getValue()[0] / k - (double) fixed[0] / settings.nodes();
      total += bytes;
      rows.add(new JsonObject().put("class", e.getKey()).put("bytesPerWorkload", bytes / n)
          .put("instancesPerWorkload", count / n));
    }
    rows.sort(Comparator.comparingDouble((JsonObject r) -> -r.getDouble("bytesPerWorkload")));
    out.put("histogramBytesPerWorkload", total / n);
    out.put("breakdown", new JsonArray(new ArrayList<>(rows.subList(0, Math.min(25, rows.size())))));
    log("class histogram: %.1f B per workload (live heap in the histograms: %.0f MB before, %.0f MB after; in the"
            + " pools: %.0f MB, %.0f MB)", total / n, sum(before) / 1e6, sum(after) / 1e6, before.heapUsed() / 1e6,
        after.heapUsed() / 1e6);
    return perAgent;
  }

  /** Bytes per second the members send to each idle client (anti-entropy checks, heartbeats), over 10 s. */
  private double idleEgress(Egress egress, int clients) throws Exception {
    Egress.Sample before = egress.sample();
    long start = System.nanoTime();
    Thread.sleep(10_000);
    Egress.Sample idle = egress.sample().minus(before);
    double perSecond = idle.sent() / ((System.nanoTime() - start) / 1e9);
    log("idle: %.0f bytes/s to %d clients", perSecond, clients);
    return perSecond / clients;
  }

  /** Latencies of a batch of changes, each offered once every agent of the last one holds it. */
  private record Batch(Histogram content, Histogram versioned, Histogram slowest, int missed, double seconds) {

    void put(JsonObject out, String prefix) {
      out.put(prefix + "P50Ms", content.getValueAtPercentile(50) / 1e3);
      out.put(prefix + "P99Ms", content.getValueAtPercentile(99) / 1e3);
      out.put(prefix + "MaxMs", content.getMaxValue() / 1e3);
      out.put(prefix + "VersionedP99Ms", versioned.getValueAtPercentile(99) / 1e3);
      out.put(prefix + "AllAgentsP50Ms", slowest.getValueAtPercentile(50) / 1e3);
      out.put(prefix + "AllAgentsP99Ms", slowest.getValueAtPercentile(99) / 1e3);
      out.put(prefix + "Pairs", content.getTotalCount());
      out.put(prefix + "Missed", missed);
    }

    String summary() {
      return String.format("%d (agent, change) pairs: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d missed",
          content.getTotalCount(), content.getValueAtPercentile(50) / 1e3, content.getValueAtPercentile(99) / 1e3,
          content.getMaxValue() / 1e3, missed);
    }
  }

  private static Batch changes(Controller controller, List<Agents> groups, SyntheticCluster cluster, int count)
      throws InterruptedException {
    Histogram content = new Histogram(60_000_000L, 3);
    Histogram versioned = new Histogram(60_000_000L, 3);
    Histogram slowest = new Histogram(60_000_000L, 3);
    int missed = 0;
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      SyntheticCluster.Change change = cluster.next();
      groups.forEach(g -> g.arm(change.visible(), change.snapshot().version()));
      controller.offer(change.snapshot());
      long last = 0;
      for (Agents group : groups) {
        Agents.Arrivals a = group.await(CHANGE_TIMEOUT);
        for (int j = 0; j < a.content().length; j++) {
          if (a.content()[j] == 0) {
            missed++;
            continue;
          }
          content.recordValue((a.content()[j] - a.start()) / 1_000);
          last = Math.max(last, a.content()[j] - a.start());
          if (a.versioned()[j] != 0) {
            versioned.recordValue((a.versioned()[j] - a.start()) / 1_000);
          }
        }
      }
      slowest.recordValue(last / 1_000);
    }
    return new Batch(content, versioned, slowest, missed, (System.nanoTime() - start) / 1e9);
  }

  /**
   * Single changes to every node agent, with the egress over them; {@link #netOfIdle} takes off
   * the idle traffic and the full re-reads the agents' anti-entropy check started meanwhile.
   */
  private void propagation(Controller controller, Agents agents, SyntheticCluster cluster, Egress egress,
      Reloads reloads) throws Exception {
    Egress.Sample before = egress.sample();
    int reloadsBefore = reloads.count();
    Batch batch = changes(controller, List.of(agents), cluster, settings.changes());
    Egress.Sample sent = egress.sample().minus(before);
    int reread = reloads.count() - reloadsBefore;
    batch.put(out, "propagation");
    out.put("propagationSeconds", batch.seconds());
    out.put("antiEntropyRereads", reread);
    out.put("propagationEgressBytes", (double) sent.sent());
    log("propagation to %d agents over %s; %d anti-entropy re-reads", agents.size(), batch.summary(), reread);
  }

  /** Egress per change of the propagation batch, less the idle traffic over its duration and the re-reads. */
  private void netOfIdle(double idlePerSecond) {
    double sent = out.getDouble("propagationEgressBytes");
    double idle = idlePerSecond * out.getDouble("propagationSeconds");
    double rereads = out.getInteger("antiEntropyRereads") * out.getDouble("fullReadEgressBytesPerAgent");
    double gross = (sent - idle) / settings.changes();
    double perChange = (sent - idle - rereads) / settings.changes();
    out.put("egressBytesPerChangeGross", gross);
    out.put("egressBytesPerChange", perChange);
    out.put("egressBytesPerChangePerAgent", perChange / settings.nodes());
    log("egress %.0f B per change (%.0f B with the anti-entropy re-reads), %.0f B per agent; idle %.0f B/s",
        perChange, gross, perChange / settings.nodes(), idlePerSecond);
  }

  /** The same changes to one agent alone: the latency without 49 other agents sharing the two cores. */
  private void solo(Controller controller, SyntheticCluster cluster) throws Exception {
    int n = cluster.workloads();
    try (Agents solo = new Agents(controller, 1, "solo", settings.checkEvery())) {
      solo.arm(index -> index.snapshot().workloads().size() == n, null);
      require(solo.await(LOAD_TIMEOUT).complete(), "the solo agent did not load");
      Batch batch = changes(controller, List.of(solo), cluster, settings.soloChanges());
      batch.put(out, "soloPropagation");
      log("propagation to one agent alone over %s", batch.summary());
    }
  }

  /**
   * Sidecar-style: {@code perPodClients} more clients, each with the whole mesh (as a sidecar
   * without scoping holds it). Their memory per client, then their egress per change, counted on
   * their own sockets only. They run without the anti-entropy check (a 1 h period), so that what
   * they receive is the changes' events only; the node agents keep theirs.
   */
  private void perPod(Controller controller, Agents agents, SyntheticCluster cluster, Egress egress,
      double perAgentHeap) throws Exception {
    int pods = settings.perPodClients();
    Memory.Reading before = Memory.read(false);
    int n = cluster.workloads();
    Egress sampleOnly = egress.newSocketsOnly();
    try (Agents sidecars = new Agents(controller, pods, "pod", Duration.ofHours(1))) {
      sidecars.arm(index -> index.snapshot().workloads().size() == n, null);
      require(sidecars.await(LOAD_TIMEOUT).complete(), "per-pod clients did not load within " + LOAD_TIMEOUT);
      Memory.Reading after = Memory.read(false);
      double heap = (double) (after.heapUsed() - before.heapUsed()) / pods;
      double threads = (double) (after.threads() - before.threads()) / pods;
      double nativeBytes = before.nativeBytes() < 0 ? 0 : (double) (after.nativeBytes() - before.nativeBytes()) / pods;
      double threadBytes = before.threadBytes() < 0 ? 0 : (double) (after.threadBytes() - before.threadBytes()) / pods;
      Egress.Sample start = sampleOnly.sample();
      Batch batch = changes(controller, List.of(agents, sidecars), cluster, settings.perPodChanges());
      Egress.Sample sent = sampleOnly.sample().minus(start);
      require(sent.sockets() == pods * settings.members(), "expected " + pods * settings.members()
          + " sockets of the per-pod clients, counted " + sent.sockets());
      double perClientPerChange = (double) sent.sent() / settings.perPodChanges() / pods;
      batch.put(out, "perPodPropagation");
      double perClient = heap + nativeBytes;
      int workloads = settings.workloads();
      double nodeTotal = settings.nodes() * (perAgentHeap + nativeBytes);
      double podTotal = (double) workloads * perClient;
      double nodeEgress = out.getDouble("egressBytesPerChange");
      double podEgress = workloads * perClientPerChange;
      out.put("perClientHeapBytes", heap);
      out.put("perClientThreads", threads);
      out.put("perClientNativeBytes", nativeBytes);
      out.put("perClientThreadStackBytes", threadBytes);
      out.put("perClientEgressBytesPerChange", perClientPerChange);
      out.put("perNodeMemoryBytes", nodeTotal);
      out.put("perPodMemoryBytesExtrapolated", podTotal);
      out.put("perNodeEgressBytesPerChange", nodeEgress);
      out.put("perPodEgressBytesPerChangeExtrapolated", podEgress);
      log("per-pod sample of %d clients: %.0f B heap, %.1f threads, %.0f B native (%.0f B stacks) per client;"
              + " %.0f B per client per change. Extrapolated to %d pods: %.1f MiB vs %.1f MiB per node,"
              + " %.0f vs %.0f B per change",
          pods, heap, threads, nativeBytes, threadBytes, perClientPerChange, workloads, podTotal / (1 << 20),
          nodeTotal / (1 << 20), podEgress, nodeEgress);
    }
  }

  /**
   * Per-agent heap of probe agents on a larger mesh: the slope between the two sizes carries no
   * fixed overhead (client, index skeleton, policies).
   */
  private void slope(Controller controller, SyntheticCluster cluster, double perAgentSmall) throws Exception {
    int small = settings.workloads();
    cluster.grow(settings.slopeWorkloads());
    MeshSnapshot big = cluster.snapshot();
    int n = big.workloads().size();
    controller.offer(big);
    long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
    while (controller.leader().distribution().lastResult() == null
        || !controller.leader().distribution().lastResult().version().hash().equals(big.version())) {
      require(System.nanoTime() < deadline, "the larger mesh was not published");
      Thread.sleep(20);
    }
    Memory.Reading before = Memory.read(false);
    try (Agents probes = new Agents(controller, settings.probeAgents(), "probe-large", settings.checkEvery())) {
      probes.arm(index -> index.snapshot().workloads().size() == n, null);
      require(probes.await(LOAD_TIMEOUT).complete(), "probe agents did not load the larger mesh");
      probes.awaitQuiet(QUIET, LOAD_TIMEOUT);
      Memory.Reading after = Memory.read(false);
      double perAgent = (double) (after.heapUsed() - before.heapUsed()) / settings.probeAgents();
      double slope = (perAgent - perAgentSmall) / (n - small);
      out.put("agentHeapBytesLarge", perAgent);
      out.put("bytesPerWorkloadSlope", slope);
      log("one agent at %d workloads: %.0f B heap; slope %.1f B per workload", n, perAgent, slope);
    }
  }

  private void csrs() throws Exception {
    Duration d = Duration.ofSeconds(settings.csrSeconds());
    CsrSigning signing = new CsrSigning(256);
    CsrSigning.Direct direct = signing.direct(d, d);
    out.put("csrPerSecondOneThread", direct.perSecond());
    out.put("csrPerCpuSecond", direct.perCpuSecond());
    log("CSRs on one thread: %.0f/s, %.0f per CPU second", direct.perSecond(), direct.perCpuSecond());
    if (settings.grpcClients() > 0) {
      Path dir = Files.createTempDirectory("capstan-bench-ca");
      CsrSigning.Grpc grpc = signing.grpc(settings.grpcClients(), 2, d, d, dir);
      out.put("grpcCsrPerSecond", grpc.perSecond());
      out.put("grpcServerCores", grpc.serverCores());
      out.put("grpcProcessCores", grpc.processCores());
      out.put("grpcCsrPerServerCore", grpc.perServerCore());
      out.put("grpcFailed", grpc.failed());
      log("CSRs through gRPC (%d clients x 2 in flight): %.0f/s, server %.2f cores (JVM %.2f) -> %.0f per server core,"
              + " %d failed", settings.grpcClients(), grpc.perSecond(), grpc.serverCores(), grpc.processCores(),
          grpc.perServerCore(), grpc.failed());
    }
  }

  private static double sum(Memory.Reading r) {
    return r.histogram().values().stream().mapToLong(v -> v[1]).sum();
  }

  private static void awaitClients(Controller controller, int n) throws InterruptedException {
    long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
    while (controller.connectedClients() < n) {
      require(System.nanoTime() < deadline, n + " agents did not connect within " + LOAD_TIMEOUT);
      Thread.sleep(50);
    }
    // Each view registers its listeners and reads the (absent) version right after connecting.
    Thread.sleep(2_000);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }

  private static void log(String format, Object... args) {
    System.err.printf("[bench] %5.0f s  " + format + "%n",
        prepend((System.nanoTime() - STARTED) / 1e9, args));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    Object[] all = new Object[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}

package dev.capstan.controller.publish;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.mesh.NamespacePolicies;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.Workload;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the Hazelcast maps equal to a mesh snapshot, writing only the entries that changed and
 * then the version. Called by the leader only, from one thread.
 *
 * <p>It remembers what it last wrote; after {@link #rebase()} (a new leader) it first reads the
 * maps back, so a take-over rewrites only what differs from what the previous leader left.
 */
public final class Publisher {

  private static final Logger LOG = LoggerFactory.getLogger(Publisher.class);
  private static final long WRITE_TIMEOUT_SECONDS = 30;

  /** What one publication changed. */
  public record Result(MeshVersion version, int written, int removed) {
    public boolean changed() {
      return written + removed > 0;
    }
  }

  private final HazelcastInstance hazelcast;
  private final String member;
  private final Clock clock;
  private final Counter entriesWritten;
  private final Counter entriesRemoved;
  private final Counter publications;
  private MeshMaps.Entries written;

  public Publisher(HazelcastInstance hazelcast, String member, Clock clock, MeterRegistry registry) {
    this.hazelcast = hazelcast;
    this.member = member;
    this.clock = clock;
    this.entriesWritten = Counter.builder("capstan_controller_entries_written_total")
        .description("mesh map entries written (added or changed)").register(registry);
    this.entriesRemoved = Counter.builder("capstan_controller_entries_removed_total")
        .description("mesh map entries removed").register(registry);
    this.publications = Counter.builder("capstan_controller_publications_total")
        .description("config versions published").register(registry);
  }

  /** Forgets what was written: the next publication diffs against the maps' actual content. */
  public synchronized void rebase() {
    written = null;
  }

  /**
   * Writes what changed since the last publication and, if anything did (or no version exists
   * yet), a new version.
   */
  public synchronized Result publish(MeshSnapshot snapshot) {
    MeshMaps.Entries desired = MeshMaps.Entries.of(snapshot);
    MeshMaps.Entries before = written != null ? written : read();
    IMap<String, MeshVersion> meta = hazelcast.getMap(MeshMaps.META);
    int[] counts = new int[2];
    sync(hazelcast.getMap(MeshMaps.WORKLOADS), before.workloads(), desired.workloads(), counts);
    sync(hazelcast.getMap(MeshMaps.SERVICES), before.services(), desired.services(), counts);
    sync(hazelcast.getMap(MeshMaps.POLICIES), before.policies(), desired.policies(), counts);
    sync(hazelcast.getMap(MeshMaps.TRAFFIC_POLICIES), before.trafficPolicies(), desired.trafficPolicies(), counts);
    sync(hazelcast.getMap(MeshMaps.WAYPOINTS), before.waypoints(), desired.waypoints(), counts);
    sync(hazelcast.getMap(MeshMaps.ROUTES), before.routes(), desired.routes(), counts);
    written = desired;
    MeshVersion current = meta.get(MeshMaps.VERSION_KEY);
    if (current != null && counts[0] + counts[1] == 0 && current.hash().equals(snapshot.version())) {
      return new Result(current, 0, 0);
    }
    MeshVersion next = new MeshVersion(
        current == null ? 1 : current.sequence() + 1, snapshot.version(), clock.millis(), member, desired.counts());
    meta.set(MeshMaps.VERSION_KEY, next);
    entriesWritten.increment(counts[0]);
    entriesRemoved.increment(counts[1]);
    publications.increment();
    LOG.info("published mesh version {}: {} entries written, {} removed ({} workload IPs, {} services, {} policy namespaces, "
        + "{} traffic policies, {} waypoints, {} routes)", next.label(), counts[0], counts[1], desired.workloads().size(),
        desired.services().size(), desired.policies().size(), desired.trafficPolicies().size(), desired.waypoints().size(),
        desired.routes().size());
    return new Result(next, counts[0], counts[1]);
  }

  private MeshMaps.Entries read() {
    IMap<String, Workload> workloads = hazelcast.getMap(MeshMaps.WORKLOADS);
    IMap<String, Service> services = hazelcast.getMap(MeshMaps.SERVICES);
    IMap<String, NamespacePolicies> policies = hazelcast.getMap(MeshMaps.POLICIES);
    IMap<String, TrafficPolicy> trafficPolicies = hazelcast.getMap(MeshMaps.TRAFFIC_POLICIES);
    return new MeshMaps.Entries(copy(workloads), copy(services), copy(policies), copy(trafficPolicies),
        copy(hazelcast.getMap(MeshMaps.WAYPOINTS)), copy(hazelcast.getMap(MeshMaps.ROUTES)));
  }

  private static <V> Map<String, V> copy(IMap<String, V> map) {
    Map<String, V> copy = new HashMap<>();
    map.entrySet().forEach(e -> copy.put(e.getKey(), e.getValue()));
    return copy;
  }

  private static <V> void sync(IMap<String, V> map, Map<String, V> before, Map<String, V> desired, int[] counts) {
    Map<String, V> changed = new HashMap<>();
    desired.forEach((k, v) -> {
      if (!Objects.equals(before.get(k), v)) {
        changed.put(k, v);
      }
    });
    List<String> gone = before.keySet().stream().filter(k -> !desired.containsKey(k)).toList();
    if (!changed.isEmpty()) {
      await(map.setAllAsync(changed));
    }
    if (!gone.isEmpty()) {
      await(CompletableFuture.allOf(gone.stream()
          .map((Function<String, CompletionStage<Boolean>>) map::deleteAsync)
          .map(CompletionStage::toCompletableFuture)
          .toArray(CompletableFuture[]::new)));
    }
    counts[0] += changed.size();
    counts[1] += gone.size();
  }

  private static void await(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing the mesh maps", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("writing the mesh maps failed: " + e, e);
    }
  }
}

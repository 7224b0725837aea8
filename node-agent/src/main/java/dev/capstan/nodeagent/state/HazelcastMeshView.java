package dev.capstan.nodeagent.state;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshMirror;
import dev.capstan.core.mesh.MeshMirror.Table;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.mesh.NamespacePolicies;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.config.AgentConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh as the controller publishes it in Hazelcast, through one client per node agent: a
 * {@link MeshMirror} of the workload, service and policy maps (events applied on one thread, a
 * full re-read after every reconnect, last known good while the controller is away, the
 * anti-entropy check), from which each change builds one new {@link MeshIndex}. {@link #ready()}
 * turns true after the first full load.
 */
public final class HazelcastMeshView implements MeshView {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastMeshView.class);

  private final List<Consumer<MeshIndex>> listeners = new CopyOnWriteArrayList<>();
  // Owned by the mirror thread.
  private Interner interner = new Interner();
  /** Keyed by the parsed address, parsed once per event: index rebuilds copy it without parsing. */
  private final Table<InetAddress, Workload> workloads =
      Table.of(MeshMaps.WORKLOADS, HazelcastMeshView::address, MeshVersion.Counts::workloads, w -> interner.workload(w));
  private final Table<String, Service> services = Table.of(MeshMaps.SERVICES, MeshVersion.Counts::services);
  private final Table<String, NamespacePolicies> policies = Table.of(MeshMaps.POLICIES, MeshVersion.Counts::policies);
  private volatile MeshIndex current = new MeshIndex(new MeshSnapshot("none", List.of(), List.of(), List.of()));
  private final MeshMirror mirror;

  /** Starts connecting in the background; the view is empty and not ready until the first load. */
  public HazelcastMeshView(AgentConfig.Controller settings, String instanceName, java.time.Duration checkEvery) {
    this.mirror = new MeshMirror(instanceName, settings.clusterName(), settings.members(),
        List.of(workloads, services, policies), new MeshMirror.Owner() {
          @Override
          public void beforeFullLoad() {
            interner = new Interner();
          }

          @Override
          public void rebuild(MeshVersion version) {
            HazelcastMeshView.this.rebuild(version);
          }
        }, checkEvery, "capstan-mesh");
  }

  @Override
  public MeshIndex current() {
    return current;
  }

  @Override
  public void onChange(Consumer<MeshIndex> listener) {
    listeners.add(listener);
  }

  /** Whether the first full load from the controller is done. */
  @Override
  public boolean ready() {
    return mirror.ready();
  }

  /** Waits for the first full load. */
  public boolean awaitReady(long timeout, TimeUnit unit) throws InterruptedException {
    return mirror.awaitReady(timeout, unit);
  }

  /** The version in force, or {@code null} before the first load. */
  public MeshVersion version() {
    return mirror.version();
  }

  /** A workload map key as an address; a key that is not a literal IP is logged and skipped. */
  private static InetAddress address(String key) {
    Optional<InetAddress> ip = Hbone.literalIp(key);
    if (ip.isEmpty()) {
      LOG.error("workload entry under '{}' ignored: the key is not an IP address", key);
    }
    return ip.orElse(null);
  }

  /** On the mirror thread: one new index of the tables. */
  private void rebuild(MeshVersion version) {
    Map<String, Workload> byUid = new LinkedHashMap<>();
    workloads.read().values().forEach(w -> byUid.putIfAbsent(w.uid(), w));
    // Endpoints name workloads by uid: point them at the workload's own uid string, once per service.
    for (Map.Entry<String, Service> e : services.read().entrySet()) {
      Service shared = Interner.endpointUids(e.getValue(), byUid);
      if (shared != e.getValue()) {
        services.write().put(e.getKey(), shared);
      }
    }
    List<AuthorizationPolicy> all = new ArrayList<>();
    Map<String, Integer> weights = new java.util.HashMap<>();
    policies.read().values().forEach(np -> {
      all.addAll(np.policies());
      if (np.bufferWeight() != 1) {
        weights.put(np.namespace(), np.bufferWeight());
      }
    });
    // The index owns the workload map from here on; the next event copies it first.
    MeshIndex next = MeshIndex.of(version.label(), workloads.share(), List.copyOf(byUid.values()),
        List.copyOf(services.read().values()), all, weights);
    current = next;
    listeners.forEach(l -> {
      try {
        l.accept(next);
      } catch (RuntimeException e) {
        LOG.error("mesh change listener failed: {}", e.toString(), e);
      }
    });
  }

  @Override
  public void close() {
    mirror.close();
  }
}

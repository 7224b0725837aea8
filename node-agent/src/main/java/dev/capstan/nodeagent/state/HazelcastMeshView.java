package dev.capstan.nodeagent.state;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.mesh.NamespacePolicies;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.config.AgentConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh as the controller publishes it in Hazelcast, through one client per node agent.
 *
 * <p>Every change arrives as a map event and is applied on one background thread ("capstan-mesh");
 * events that arrive together are applied together and then one new {@link MeshIndex} is built.
 * On (re)connect the view re-reads the maps whole, but only once the controller has published a
 * version: a controller that restarts with empty maps does not wipe the agent's config, which
 * stays last-known-good while no member is reachable. {@link #ready()} turns true after the first
 * full load.
 *
 * <p>Hazelcast delivers events at most once (a listener registering on a member that is just
 * joining, or a full event queue, can lose one), so a periodic check compares the published
 * version and entry counts with the view's and re-reads the maps when the same published version
 * still differs one check later. Counts cannot reveal a lost update of an entry, so every {@value
 * #FULL_RELOAD_EVERY_CHECKS}th check re-reads the maps anyway: a lost update lives at most that long.
 */
public final class HazelcastMeshView implements MeshView {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastMeshView.class);

  private volatile HazelcastInstance client;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "capstan-mesh");
    t.setDaemon(true);
    return t;
  });
  private final java.util.concurrent.ScheduledExecutorService checker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "capstan-mesh-check");
    t.setDaemon(true);
    return t;
  });
  private final List<Consumer<MeshIndex>> listeners = new CopyOnWriteArrayList<>();
  private final CountDownLatch firstLoad = new CountDownLatch(1);
  /** Hazelcast may report the connection before its constructor has returned the client. */
  private final CountDownLatch created = new CountDownLatch(1);
  private Interner interner = new Interner();
  // Owned by the mesh thread.
  /** Keyed by the parsed address, parsed once per event: index rebuilds copy it without parsing. */
  private final Owned<InetAddress, Workload> workloads = new Owned<>();
  private final Owned<String, Service> services = new Owned<>();
  private final Owned<String, NamespacePolicies> policies = new Owned<>();
  private MeshVersion version;
  private boolean rebuildQueued;
  private boolean listening;
  private boolean awaitingFullLoad = true;
  /** The published version that differed from the view at the last check, if any. */
  private MeshVersion differing;
  private int checks;
  static final int FULL_RELOAD_EVERY_CHECKS = 60;
  private volatile MeshIndex current = new MeshIndex(new MeshSnapshot("none", List.of(), List.of(), List.of()));

  /** Starts connecting in the background; the view is empty and not ready until the first load. */
  public HazelcastMeshView(AgentConfig.Controller settings, String instanceName, java.time.Duration checkEvery) {
    this.client = HazelcastClient.newHazelcastClient(
        MeshMaps.clientConfig(instanceName, settings.clusterName(), settings.members(), this::lifecycle));
    created.countDown();
    checker.scheduleWithFixedDelay(() -> thread.execute(this::check),
        checkEvery.toMillis(), checkEvery.toMillis(), TimeUnit.MILLISECONDS);
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
    return firstLoad.getCount() == 0;
  }

  /** Waits for the first full load. */
  public boolean awaitReady(long timeout, TimeUnit unit) throws InterruptedException {
    return firstLoad.await(timeout, unit);
  }

  /** The version in force, or {@code null} before the first load. */
  public MeshVersion version() {
    return version;
  }

  private void lifecycle(LifecycleEvent event) {
    switch (event.getState()) {
      case CLIENT_CONNECTED, CLIENT_CHANGED_CLUSTER -> {
        LOG.info("connected to the controller ({}): re-reading the mesh", event.getState());
        thread.execute(this::connected);
      }
      case CLIENT_DISCONNECTED -> {
        LOG.warn("lost the controller: serving the last known mesh version {} until it is back", current.version());
        // Removals made while we were away fire no event: the next published version must come
        // with a full read, even if its events reach us before CLIENT_CONNECTED does.
        thread.execute(() -> awaitingFullLoad = true);
      }
      default -> { }
    }
  }

  /** On the mesh thread: listen (once; the client re-registers after reconnects), then load. */
  private void connected() {
    try {
      if (!created.await(30, TimeUnit.SECONDS)) {
        return;
      }
      if (!listening) {
        listen(client.getMap(MeshMaps.WORKLOADS), HazelcastMeshView::address, workloads);
        listen(client.getMap(MeshMaps.SERVICES), k -> k, services);
        listen(client.getMap(MeshMaps.POLICIES), k -> k, policies);
        IMap<String, MeshVersion> meta = client.getMap(MeshMaps.META);
        meta.addEntryListener((EntryAddedListener<String, MeshVersion>) e -> thread.execute(() -> versioned(e.getValue())), true);
        meta.addEntryListener((EntryUpdatedListener<String, MeshVersion>) e -> thread.execute(() -> versioned(e.getValue())), true);
        listening = true;
      }
      awaitingFullLoad = true;
      MeshVersion published = client.<String, MeshVersion>getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY);
      if (published != null) {
        fullLoad(published);
      } else {
        LOG.info("the controller has published no mesh yet: keeping version {}", current.version());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // Offline again before we got through: the next CLIENT_CONNECTED retries.
      LOG.warn("reading the mesh from the controller failed, will retry on reconnect: {}", e.toString());
    }
  }

  private <K, V> void listen(IMap<String, V> map, Function<String, K> keyOf, Owned<K, V> state) {
    map.addEntryListener((EntryAddedListener<String, V>) e -> applyLater(state, keyOf, e.getKey(), e.getValue()), true);
    map.addEntryListener((EntryUpdatedListener<String, V>) e -> applyLater(state, keyOf, e.getKey(), e.getValue()), true);
    map.addEntryListener((EntryRemovedListener<String, V>) e -> thread.execute(() -> {
      K key = keyOf.apply(e.getKey());
      if (key != null) {
        state.write().remove(key);
        queueRebuild();
      }
    }), true);
  }

  private <K, V> void applyLater(Owned<K, V> state, Function<String, K> keyOf, String key, V value) {
    thread.execute(() -> {
      K k = keyOf.apply(key);
      if (k != null) {
        state.write().put(k, intern(value));
        queueRebuild();
      }
    });
  }

  /** A workload map key as an address; a key that is not a literal IP is logged and skipped. */
  private static InetAddress address(String key) {
    Optional<InetAddress> ip = Hbone.literalIp(key);
    if (ip.isEmpty()) {
      LOG.error("workload entry under '{}' ignored: the key is not an IP address", key);
    }
    return ip.orElse(null);
  }

  /** Workloads are stored with shared strings and label maps: the bulk of the view's memory. */
  @SuppressWarnings("unchecked")
  private <V> V intern(V value) {
    return value instanceof Workload w ? (V) interner.workload(w) : value;
  }

  private void versioned(MeshVersion v) {
    if (awaitingFullLoad) {
      fullLoad(v);
      return;
    }
    version = v;
    queueRebuild();
  }

  /** Replaces the state with the maps' content. Events queued behind this task are newer. */
  private void fullLoad(MeshVersion published) {
    interner = new Interner();
    Map<InetAddress, Workload> w = new HashMap<>();
    this.<Workload>copy(client.getMap(MeshMaps.WORKLOADS)).forEach((ip, workload) -> {
      InetAddress key = address(ip);
      if (key != null) {
        w.put(key, interner.workload(workload));
      }
    });
    Map<String, Service> s = copy(client.getMap(MeshMaps.SERVICES));
    Map<String, NamespacePolicies> p = copy(client.getMap(MeshMaps.POLICIES));
    workloads.replace(w);
    services.replace(s);
    policies.replace(p);
    version = published;
    awaitingFullLoad = false;
    // Ready before the index is handed out: whoever sees the loaded index sees a ready view.
    firstLoad.countDown();
    rebuild();
    LOG.info("mesh version {} loaded from the controller: {} workload IPs, {} services, {} policy namespaces",
        published.label(), w.size(), s.size(), p.size());
  }

  /**
   * On the mesh thread: the anti-entropy check against the published version. A difference is
   * acted on only when the same published version still differs one check later: under a steady
   * stream of changes the view is always a little behind, and that is not a lost event.
   */
  private void check() {
    if (!listening || !client.getLifecycleService().isRunning()) {
      return;
    }
    try {
      MeshVersion published = client.<String, MeshVersion>getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY);
      if (published == null) {
        return;
      }
      if (++checks % FULL_RELOAD_EVERY_CHECKS == 0) {
        fullLoad(published);
        differing = null;
        return;
      }
      boolean differs = version == null || !published.equals(version)
          || published.entries().workloads() != workloads.read().size()
          || published.entries().services() != services.read().size()
          || published.entries().policies() != policies.read().size();
      if (differs && (version == null || published.equals(differing))) {
        LOG.warn("mesh view {} differs from the published {} ({} workload IPs, {} services, {} policy namespaces held):"
            + " an event was missed, re-reading the maps", version == null ? "none" : version.label(), published,
            workloads.read().size(), services.read().size(), policies.read().size());
        fullLoad(published);
        differing = null;
        return;
      }
      differing = differs ? published : null;
    } catch (RuntimeException e) {
      LOG.debug("mesh check skipped: {}", e.toString());
    }
  }

  private <V> Map<String, V> copy(IMap<String, V> map) {
    Map<String, V> copy = new HashMap<>();
    map.entrySet().forEach(e -> copy.put(e.getKey(), e.getValue()));
    return copy;
  }

  private void queueRebuild() {
    if (!rebuildQueued) {
      rebuildQueued = true;
      thread.execute(this::rebuild);
    }
  }

  private void rebuild() {
    rebuildQueued = false;
    if (version == null) {
      return;
    }
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

  /**
   * A state map written by the mesh thread and handed whole to each new index: after {@link
   * #share()} the next write copies it first (copy on write), so the index never changes under the
   * data path and the view holds one copy of its workloads, not two.
   */
  private static final class Owned<K, V> {
    private Map<K, V> map = new HashMap<>();
    private boolean shared;

    Map<K, V> read() {
      return map;
    }

    Map<K, V> write() {
      if (shared) {
        map = new HashMap<>(map);
        shared = false;
      }
      return map;
    }

    Map<K, V> share() {
      shared = true;
      return map;
    }

    void replace(Map<K, V> next) {
      map = next;
      shared = false;
    }
  }

  @Override
  public void close() {
    checker.shutdownNow();
    thread.shutdownNow();
    client.shutdown();
  }
}

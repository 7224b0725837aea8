package dev.capstan.redirect.mesh;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.model.Workload;
import dev.capstan.redirect.config.RedirectConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workloads map the controller publishes, through a Hazelcast client. Entry events update a
 * local copy; {@link #refresh()} re-reads the map whole (events are delivered at most once). Both
 * run on one thread, so a re-read never overwrites a newer event. Nothing is reported before the
 * controller has published a version ({@code meta/version}): a controller restarting with empty
 * maps does not empty the capture, and while it is unreachable the last copy stays in force.
 */
public final class HazelcastWorkloads implements WorkloadSource {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastWorkloads.class);

  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "capstan-redirect-mesh");
    t.setDaemon(true);
    return t;
  });
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  /** Hazelcast may report the connection before its constructor has returned the client. */
  private final CountDownLatch created = new CountDownLatch(1);
  private final HazelcastInstance client;
  // Owned by the mesh thread.
  private final Map<String, Workload> copy = new HashMap<>();
  private boolean listening;
  private boolean loaded;
  private volatile Optional<List<Workload>> current = Optional.empty();

  /** Starts connecting in the background. */
  public HazelcastWorkloads(RedirectConfig.Controller settings, String instanceName) {
    this.client = HazelcastClient.newHazelcastClient(
        MeshMaps.clientConfig(instanceName, settings.clusterName(), settings.members(), this::lifecycle));
    created.countDown();
  }

  @Override
  public Optional<List<Workload>> workloads() {
    return current;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public void refresh() {
    thread.execute(this::fullLoad);
  }

  private void lifecycle(LifecycleEvent event) {
    switch (event.getState()) {
      case CLIENT_CONNECTED, CLIENT_CHANGED_CLUSTER -> {
        LOG.info("connected to the controller ({}): re-reading the workloads", event.getState());
        thread.execute(this::connected);
      }
      case CLIENT_DISCONNECTED -> LOG.warn("lost the controller: keeping the capture of the last known workloads");
      default -> { }
    }
  }

  private void connected() {
    try {
      if (!created.await(30, TimeUnit.SECONDS)) {
        return;
      }
      if (!listening) {
        IMap<String, Workload> workloads = client.getMap(MeshMaps.WORKLOADS);
        workloads.addEntryListener((EntryAddedListener<String, Workload>) e -> put(e.getKey(), e.getValue()), true);
        workloads.addEntryListener((EntryUpdatedListener<String, Workload>) e -> put(e.getKey(), e.getValue()), true);
        workloads.addEntryListener((EntryRemovedListener<String, Workload>) e -> thread.execute(() -> {
          if (copy.remove(e.getKey()) != null) {
            publish();
          }
        }), true);
        IMap<String, MeshVersion> meta = client.getMap(MeshMaps.META);
        meta.addEntryListener((EntryAddedListener<String, MeshVersion>) e -> thread.execute(this::loadIfFirst), true);
        meta.addEntryListener((EntryUpdatedListener<String, MeshVersion>) e -> thread.execute(this::loadIfFirst), true);
        listening = true;
      }
      fullLoad();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void put(String ip, Workload w) {
    thread.execute(() -> {
      copy.put(ip, w);
      publish();
    });
  }

  private void loadIfFirst() {
    if (!loaded) {
      fullLoad();
    }
  }

  /** On the mesh thread: the map whole, once the controller has published a version. */
  private void fullLoad() {
    if (!listening || !client.getLifecycleService().isRunning()) {
      return;
    }
    try {
      MeshVersion published = client.<String, MeshVersion>getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY);
      if (published == null) {
        LOG.info("the controller has published no mesh yet: capture unchanged");
        return;
      }
      Map<String, Workload> read = new HashMap<>();
      client.<String, Workload>getMap(MeshMaps.WORKLOADS).entrySet().forEach(e -> read.put(e.getKey(), e.getValue()));
      copy.clear();
      copy.putAll(read);
      if (!loaded) {
        LOG.info("mesh version {} loaded from the controller: {} workload IPs", published.label(), read.size());
      }
      loaded = true;
      publish();
    } catch (RuntimeException e) {
      LOG.warn("re-reading the workloads from the controller failed, keeping the last ones: {}", e.toString());
    }
  }

  /** On the mesh thread: one workload per uid (the map has one entry per IP). */
  private void publish() {
    if (!loaded) {
      return;
    }
    Map<String, Workload> byUid = new HashMap<>();
    copy.values().forEach(w -> byUid.putIfAbsent(w.uid(), w));
    List<Workload> next = List.copyOf(byUid.values());
    if (current.isPresent() && current.get().equals(next)) {
      return;
    }
    current = Optional.of(next);
    listeners.forEach(Runnable::run);
  }

  @Override
  public void close() {
    thread.shutdownNow();
    client.shutdown();
  }
}

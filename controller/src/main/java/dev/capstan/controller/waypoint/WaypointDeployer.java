package dev.capstan.controller.waypoint;

import dev.capstan.controller.cluster.Leadership;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the mesh's Waypoints in the cluster: for each Waypoint of the latest snapshot, makes its
 * ServiceAccount, ConfigMap, Service and Deployment ({@link WaypointManifests}) exist as wanted.
 * Only the leading replica writes. Work runs on one thread; snapshots that arrive meanwhile are
 * coalesced into the newest.
 *
 * <p>An object is created when absent, patched when its desired-hash annotation differs, and
 * left alone when it exists but is not owned by the Waypoint (a warning names it: Capstan never
 * takes over someone else's object). What a Waypoint's objects were last written as is
 * remembered, so a snapshot that leaves a Waypoint unchanged costs no API call; a new leader and
 * every {@code resync} forget it and re-check every object (one GET each), which brings back an
 * object someone deleted. Deleting a Waypoint deletes its objects through their owner references
 * (Kubernetes' garbage collector); this class deletes nothing. A write that fails is logged and
 * retried at the next snapshot or resync.
 */
public final class WaypointDeployer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WaypointDeployer.class);

  private final KubernetesClient client;
  private final WaypointManifests.Settings settings;
  private final Leadership leadership;
  private final BiFunction<String, String, Optional<WaypointResource>> resources;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "capstan-waypoints");
    t.setDaemon(true);
    return t;
  });
  private final AtomicReference<MeshSnapshot> latest = new AtomicReference<>();
  private final AtomicBoolean queued = new AtomicBoolean();
  /** Owned by the thread: per Waypoint key, the uid and hashes of the objects last written. */
  private final Map<String, String> written = new HashMap<>();

  /**
   * @param resources the Waypoint resource of a namespace and name (the informer cache), for its uid
   * @param resync how often every object is checked again
   */
  public WaypointDeployer(KubernetesClient client, WaypointManifests.Settings settings, Leadership leadership,
      BiFunction<String, String, Optional<WaypointResource>> resources, Duration resync) {
    this.client = Objects.requireNonNull(client, "client");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.leadership = Objects.requireNonNull(leadership, "leadership");
    this.resources = Objects.requireNonNull(resources, "resources");
    leadership.onChange(leader -> {
      if (leader) {
        execute(() -> {
          written.clear();
          reconcile();
        });
      }
    });
    long every = resync.toMillis();
    thread.scheduleWithFixedDelay(() -> {
      written.clear();
      reconcile();
    }, every, every, TimeUnit.MILLISECONDS);
  }

  /** A new snapshot from the source (any thread). */
  public void offer(MeshSnapshot snapshot) {
    latest.set(snapshot);
    if (queued.compareAndSet(false, true)) {
      execute(() -> {
        queued.set(false);
        reconcile();
      });
    }
  }

  private void execute(Runnable task) {
    try {
      thread.execute(task);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void reconcile() {
    MeshSnapshot snapshot = latest.get();
    if (snapshot == null || !leadership.isLeader()) {
      return;
    }
    List<String> keys = snapshot.waypoints().stream().map(Waypoint::key).collect(Collectors.toList());
    written.keySet().retainAll(keys);
    for (Waypoint waypoint : snapshot.waypoints()) {
      Optional<WaypointResource> resource = resources.apply(waypoint.namespace(), waypoint.name());
      if (resource.isEmpty() || resource.get().getMetadata().getUid() == null) {
        continue; // deleted meanwhile; the next snapshot says so
      }
      List<HasMetadata> objects = WaypointManifests.of(resource.get(), waypoint, settings);
      String fingerprint = resource.get().getMetadata().getUid() + objects.stream()
          .map(o -> o.getMetadata().getAnnotations().get(WaypointManifests.HASH_ANNOTATION)).collect(Collectors.joining(","));
      if (fingerprint.equals(written.get(waypoint.key()))) {
        continue;
      }
      try {
        for (HasMetadata object : objects) {
          apply(waypoint, resource.get().getMetadata().getUid(), object);
        }
        written.put(waypoint.key(), fingerprint);
      } catch (KubernetesClientException e) {
        LOG.warn("Waypoint {}: writing its objects failed ({} {}), retried at the next change or resync", waypoint.key(),
            e.getCode(), e.getMessage());
      }
    }
  }

  private <T extends HasMetadata> void apply(Waypoint waypoint, String uid, T desired) {
    T existing = client.resource(desired).get();
    String what = desired.getKind() + " " + desired.getMetadata().getNamespace() + "/" + desired.getMetadata().getName();
    if (existing == null) {
      client.resource(desired).create();
      LOG.info("Waypoint {}: created {}", waypoint.key(), what);
      return;
    }
    boolean owned = existing.getMetadata().getOwnerReferences() != null
        && existing.getMetadata().getOwnerReferences().stream().anyMatch(r -> uid.equals(r.getUid()));
    if (!owned) {
      LOG.warn("Waypoint {}: {} exists and is not owned by the Waypoint: left as it is (delete or rename it for the"
          + " controller to create its own)", waypoint.key(), what);
      return;
    }
    String hash = desired.getMetadata().getAnnotations().get(WaypointManifests.HASH_ANNOTATION);
    Map<String, String> annotations = existing.getMetadata().getAnnotations();
    if (annotations != null && hash.equals(annotations.get(WaypointManifests.HASH_ANNOTATION))) {
      return;
    }
    client.resource(existing).edit(current -> {
      current.getMetadata().setLabels(desired.getMetadata().getLabels());
      Map<String, String> merged = new HashMap<>(current.getMetadata().getAnnotations() == null ? Map.of()
          : current.getMetadata().getAnnotations());
      merged.putAll(desired.getMetadata().getAnnotations());
      current.getMetadata().setAnnotations(merged);
      current.getMetadata().setOwnerReferences(desired.getMetadata().getOwnerReferences());
      overlay(current, desired);
      return current;
    });
    LOG.info("Waypoint {}: updated {}", waypoint.key(), what);
  }

  /** The fields the controller owns, onto the live object (the API server's own fields, like a Service's clusterIP, stay). */
  private static void overlay(HasMetadata current, HasMetadata desired) {
    if (current instanceof Deployment d && desired instanceof Deployment want) {
      d.setSpec(want.getSpec());
    } else if (current instanceof Service s && desired instanceof Service want) {
      s.getSpec().setType(want.getSpec().getType());
      s.getSpec().setSelector(want.getSpec().getSelector());
      s.getSpec().setPorts(want.getSpec().getPorts());
    } else if (current instanceof ConfigMap c && desired instanceof ConfigMap want) {
      c.setData(want.getData());
    }
  }

  /** Waits until the work queued before this call is done (tests). */
  void awaitIdle() throws Exception {
    thread.submit(() -> { }).get(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}

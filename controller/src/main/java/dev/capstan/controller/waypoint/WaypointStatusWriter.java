package dev.capstan.controller.waypoint;

import dev.capstan.controller.cluster.Leadership;
import dev.capstan.controller.source.KubernetesSource;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointStatus;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Workload;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each Waypoint's {@code status} ({@link WaypointConditions}): the leading replica alone,
 * through the status subresource, and only when the status it computes differs from what the
 * Waypoint has (or what this writer last wrote, while the informer cache catches up): a pass that
 * finds nothing changed makes no API call.
 *
 * <p>It reads the source's caches (Waypoints, Namespaces, Services) and watches the Deployments
 * labelled {@value Workload#WAYPOINT_LABEL} itself (their readiness is not part of the mesh). A
 * pass runs, on one thread, after a new snapshot, any Waypoint or Deployment event, a change of
 * leadership and every {@code resync}; events that arrive meanwhile are coalesced. A write is a
 * PUT of the status with the Waypoint's resourceVersion: when the Waypoint changed in between the
 * API server answers 409, and the next pass (the Waypoint's change is an event) computes it again
 * from the new version. Any failed write is also retried {@code retry} later.
 */
public final class WaypointStatusWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WaypointStatusWriter.class);

  /** What the writer reads from the source (the informer caches of {@link KubernetesSource}). */
  public interface Caches {
    /** Whether the caches hold a full list. */
    boolean synced();

    /** Every Waypoint resource. */
    List<WaypointResource> waypoints();

    /** Whether the namespace is enrolled in the mesh. */
    boolean enrolled(String namespace);

    /** A Service by namespace and name. */
    Optional<Service> service(String namespace, String name);

    /** Calls {@code listener} after each Waypoint event. */
    void onWaypointEvent(Runnable listener);

    /** The caches of a Kubernetes source. */
    static Caches of(KubernetesSource source) {
      return new Caches() {
        @Override
        public boolean synced() {
          return source.hasSynced();
        }

        @Override
        public List<WaypointResource> waypoints() {
          return source.waypoints();
        }

        @Override
        public boolean enrolled(String namespace) {
          return source.enrolled(namespace);
        }

        @Override
        public Optional<Service> service(String namespace, String name) {
          return source.service(namespace, name);
        }

        @Override
        public void onWaypointEvent(Runnable listener) {
          source.onWaypointEvent(listener);
        }
      };
    }
  }

  /**
   * How the writer runs.
   *
   * @param namespaces the namespaces to watch Deployments in; empty means every namespace
   * @param ownedByWaypoint whether a Deployment or Service counts only when the Waypoint owns it
   *     (the controller deploys waypoints)
   * @param resync how often what was written is forgotten and every status compared again
   * @param retry how long after a failed write it is tried again
   */
  public record Settings(Set<String> namespaces, boolean ownedByWaypoint, Duration resync, Duration retry) {
    public Settings {
      namespaces = Set.copyOf(namespaces);
      Objects.requireNonNull(resync, "resync");
      Objects.requireNonNull(retry, "retry");
      if (resync.isNegative() || resync.isZero() || retry.isNegative() || retry.isZero()) {
        throw new IllegalArgumentException("resync and retry must be positive, got " + resync + " and " + retry);
      }
    }
  }

  private final KubernetesClient client;
  private final Leadership leadership;
  private final Caches caches;
  private final Settings settings;
  private final Clock clock;
  private final List<SharedIndexInformer<Deployment>> deployments = new ArrayList<>();
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "capstan-waypoint-status");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean queued = new AtomicBoolean();
  private final AtomicBoolean retryScheduled = new AtomicBoolean();
  private volatile boolean closed;
  /** Owned by the thread: per Waypoint uid, the status last written (or found already right). */
  private final Map<String, WaypointStatus> written = new HashMap<>();

  /** Starts watching the waypoints' Deployments; nothing is written before the caches have synced. */
  public WaypointStatusWriter(KubernetesClient client, Leadership leadership, Caches caches, Settings settings,
      Clock clock) {
    this.client = Objects.requireNonNull(client, "client");
    this.leadership = Objects.requireNonNull(leadership, "leadership");
    this.caches = Objects.requireNonNull(caches, "caches");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (settings.namespaces().isEmpty()) {
      deployments.add(client.apps().deployments().inAnyNamespace().withLabel(Workload.WAYPOINT_LABEL)
          .runnableInformer(0));
    } else {
      for (String ns : settings.namespaces().stream().sorted().toList()) {
        deployments.add(client.apps().deployments().inNamespace(ns).withLabel(Workload.WAYPOINT_LABEL)
            .runnableInformer(0));
      }
    }
    ResourceEventHandler<Deployment> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Deployment obj) {
        trigger();
      }

      @Override
      public void onUpdate(Deployment oldObj, Deployment newObj) {
        trigger();
      }

      @Override
      public void onDelete(Deployment obj, boolean deletedFinalStateUnknown) {
        trigger();
      }
    };
    for (SharedIndexInformer<Deployment> informer : deployments) {
      informer.addEventHandler(handler);
      informer.exceptionHandler((started, t) -> {
        LOG.warn("waypoint Deployments informer: list/watch failed ({}); retrying", t.toString());
        return !closed;
      });
      informer.start();
    }
    caches.onWaypointEvent(this::trigger);
    leadership.onChange(leader -> {
      if (leader) {
        execute(() -> {
          written.clear();
          pass();
        });
      }
    });
    long every = settings.resync().toMillis();
    thread.scheduleWithFixedDelay(this::resync, every, every, TimeUnit.MILLISECONDS);
  }

  /** A new snapshot from the source (any thread): Services or enrollment may have changed. */
  public void offer(MeshSnapshot snapshot) {
    trigger();
  }

  /** Asks for a pass (any thread); requests made while one is queued join it. */
  public void trigger() {
    if (queued.compareAndSet(false, true)) {
      execute(() -> {
        queued.set(false);
        pass();
      });
    }
  }

  /** Forgets what was written and compares every status again (what the periodic resync does). */
  void resync() {
    execute(() -> {
      written.clear();
      pass();
    });
  }

  private void execute(Runnable task) {
    try {
      thread.execute(task);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void pass() {
    if (closed || !leadership.isLeader() || !caches.synced() || !deployments.stream().allMatch(SharedIndexInformer::hasSynced)) {
      return;
    }
    Set<String> seen = new HashSet<>();
    boolean failed = false;
    for (WaypointResource r : caches.waypoints()) {
      if (r.getMetadata() == null || r.getMetadata().getUid() == null || r.getMetadata().getName() == null) {
        continue;
      }
      String uid = r.getMetadata().getUid();
      seen.add(uid);
      String namespace = r.getMetadata().getNamespace();
      String name = r.getMetadata().getName();
      Optional<WaypointStatus> previous = Optional.ofNullable(written.get(uid)).or(() -> Optional.ofNullable(r.getStatus()));
      WaypointStatus desired = WaypointConditions.of(new WaypointConditions.Inputs(r, caches.enrolled(namespace),
          deployment(namespace, name), caches.service(namespace, name), settings.ownedByWaypoint()), previous,
          clock.instant());
      if (previous.isPresent() && desired.equals(previous.get())) {
        written.put(uid, desired);
        continue;
      }
      try {
        write(r, desired);
        written.put(uid, desired);
        LOG.info("Waypoint {}/{}: status written: {}", namespace, name, summary(desired));
      } catch (KubernetesClientException e) {
        failed = true;
        if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
          LOG.info("Waypoint {}/{} changed while its status was written (409): computed again from the new version",
              namespace, name);
        } else {
          LOG.warn("Waypoint {}/{}: writing its status failed ({} {}), retried in {}", namespace, name, e.getCode(),
              e.getMessage(), settings.retry());
        }
      }
    }
    written.keySet().retainAll(seen);
    if (failed && retryScheduled.compareAndSet(false, true)) {
      try {
        thread.schedule(() -> {
          retryScheduled.set(false);
          pass();
        }, settings.retry().toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // closed
      }
    }
  }

  /** PUT of the status subresource with the cached resourceVersion: 409 if the Waypoint changed since. */
  private void write(WaypointResource cached, WaypointStatus status) {
    WaypointResource update = new WaypointResource();
    update.setMetadata(new ObjectMetaBuilder()
        .withNamespace(cached.getMetadata().getNamespace())
        .withName(cached.getMetadata().getName())
        .withUid(cached.getMetadata().getUid())
        .withResourceVersion(cached.getMetadata().getResourceVersion())
        .withGeneration(cached.getMetadata().getGeneration())
        .build());
    update.setSpec(cached.getSpec());
    update.setStatus(status);
    client.resource(update).status().update();
  }

  private Optional<Deployment> deployment(String namespace, String name) {
    String key = Cache.namespaceKeyFunc(namespace, name);
    for (SharedIndexInformer<Deployment> informer : deployments) {
      Deployment d = informer.getStore().getByKey(key);
      if (d != null) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  private static String summary(WaypointStatus status) {
    StringBuilder s = new StringBuilder();
    for (WaypointStatus.Condition c : status.conditions()) {
      s.append(s.length() == 0 ? "" : ", ").append(c.type()).append('=').append(c.status()).append(" (").append(c.reason())
          .append(c.message().isEmpty() ? "" : ": " + c.message()).append(')');
    }
    return s.toString();
  }

  /** Waits until the work queued before this call is done (tests). */
  void awaitIdle() throws Exception {
    thread.submit(() -> { }).get(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    closed = true;
    deployments.forEach(SharedIndexInformer::stop);
    thread.shutdownNow();
  }
}

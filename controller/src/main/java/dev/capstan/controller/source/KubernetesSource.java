package dev.capstan.controller.source;

import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.controller.source.crd.WaypointResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import dev.capstan.core.model.MeshSnapshot;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.SharedInformerFactory;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster source: fabric8 shared informers on Namespaces, Pods, Services, EndpointSlices,
 * Capstan AuthorizationPolicies, TrafficPolicies and Waypoints, and Gateway API HTTPRoutes and
 * GRPCRoutes (when the API server serves them), and a full recompute through the {@link Translator} from their
 * caches after any event.
 *
 * <p>Every namespace: one {@link SharedInformerFactory} with an informer per kind. Some
 * namespaces: informers per namespace from the client's Informable DSL (and one on each Namespace
 * object by name).
 *
 * <p>Informer callbacks only mark the mesh dirty; the first mark schedules one recompute {@code
 * debounce} later on this source's single daemon thread, so a burst of events (a rollout, a relist)
 * costs one recompute. Nothing is emitted before every informer has synced, then only snapshots
 * whose content hash changed. Because every recompute reads the caches whole, a delete seen only as
 * a tombstone ({@code deletedFinalStateUnknown}, after a relist) needs no special handling.
 * fabric8 informers re-watch after a dropped watch and relist after {@code 410 Gone} by
 * themselves; this source also tells them to retry after any other list or watch error (with
 * fabric8's exponential back-off) instead of stopping, so a missing CRD or RBAC rule delays the
 * first snapshot, loudly, rather than starting the mesh without its policies.
 *
 * <p>The client stays the caller's: {@link #close()} stops the informers, not the client.
 */
public final class KubernetesSource implements MeshSource {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesSource.class);
  private static final Pattern NAMESPACE_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  /**
   * How to watch.
   *
   * @param namespaces the namespaces to watch; empty means every namespace (cluster-wide informers,
   *     which need cluster-wide list/watch RBAC); otherwise one set of informers per namespace,
   *     which needs only namespaced RBAC plus get/list/watch on those Namespace objects
   * @param resync informer resync period (cached objects re-delivered as updates); zero disables it
   * @param debounce delay between the first event of a burst and the recompute
   */
  public record Options(Set<String> namespaces, Duration resync, Duration debounce) {

    public Options {
      namespaces = Set.copyOf(Objects.requireNonNull(namespaces, "namespaces"));
      Objects.requireNonNull(resync, "resync");
      Objects.requireNonNull(debounce, "debounce");
      for (String ns : namespaces) {
        if (ns.length() > 63 || !NAMESPACE_NAME.matcher(ns).matches()) {
          throw new IllegalArgumentException("namespaces: '" + ns + "' is not a namespace name");
        }
      }
      if (resync.isNegative()) {
        throw new IllegalArgumentException("resync must not be negative, got " + resync);
      }
      if (debounce.isNegative() || debounce.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("debounce must be between 0 and 10 s, got " + debounce);
      }
    }

    /** Every namespace, resync every 5 minutes, 100 ms debounce. */
    public static Options defaults() {
      return new Options(Set.of(), Duration.ofMinutes(5), Duration.ofMillis(100));
    }

    /** These options restricted to the given namespaces. */
    public Options withNamespaces(Set<String> names) {
      return new Options(names, resync, debounce);
    }

    /** These options with another debounce. */
    public Options withDebounce(Duration delay) {
      return new Options(namespaces, resync, delay);
    }
  }

  private final Options options;
  private final Informers<Namespace> namespaces = new Informers<>();
  private final Informers<Pod> pods = new Informers<>();
  private final Informers<Service> services = new Informers<>();
  private final Informers<EndpointSlice> endpointSlices = new Informers<>();
  private final Informers<AuthorizationPolicyResource> policies = new Informers<>();
  private final Informers<TrafficPolicyResource> trafficPolicies = new Informers<>();
  private final Informers<WaypointResource> waypoints = new Informers<>();
  private final Informers<GenericKubernetesResource> routes = new Informers<>();
  private final ScheduledExecutorService worker;
  private final AtomicBoolean dirty = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile boolean closed;
  private volatile ChangeEmitter emitter;

  /** Prepares the informers; nothing is watched before {@link #start}. */
  public KubernetesSource(KubernetesClient client, Options options) {
    Objects.requireNonNull(client, "client");
    this.options = Objects.requireNonNull(options, "options");
    long resync = options.resync().toMillis();
    if (options.namespaces().isEmpty()) {
      SharedInformerFactory factory = client.informers();
      namespaces.add(factory.sharedIndexInformerFor(Namespace.class, resync));
      pods.add(factory.sharedIndexInformerFor(Pod.class, resync));
      services.add(factory.sharedIndexInformerFor(Service.class, resync));
      endpointSlices.add(factory.sharedIndexInformerFor(EndpointSlice.class, resync));
      policies.add(factory.sharedIndexInformerFor(AuthorizationPolicyResource.class, resync));
      trafficPolicies.add(factory.sharedIndexInformerFor(TrafficPolicyResource.class, resync));
      waypoints.add(factory.sharedIndexInformerFor(WaypointResource.class, resync));
      for (ResourceDefinitionContext kind : routeKinds(client)) {
        routes.add(client.genericKubernetesResources(kind).inAnyNamespace().runnableInformer(resync));
      }
    } else {
      List<ResourceDefinitionContext> routeKinds = routeKinds(client);
      // fabric8 deprecates the factory's inNamespace/withName in favour of the Informable DSL.
      for (String ns : options.namespaces().stream().sorted().toList()) {
        namespaces.add(client.namespaces().withName(ns).runnableInformer(resync));
        pods.add(client.pods().inNamespace(ns).runnableInformer(resync));
        services.add(client.services().inNamespace(ns).runnableInformer(resync));
        endpointSlices.add(client.discovery().v1().endpointSlices().inNamespace(ns).runnableInformer(resync));
        policies.add(client.resources(AuthorizationPolicyResource.class).inNamespace(ns).runnableInformer(resync));
        trafficPolicies.add(client.resources(TrafficPolicyResource.class).inNamespace(ns).runnableInformer(resync));
        waypoints.add(client.resources(WaypointResource.class).inNamespace(ns).runnableInformer(resync));
        for (ResourceDefinitionContext kind : routeKinds) {
          routes.add(client.genericKubernetesResources(kind).inNamespace(ns).runnableInformer(resync));
        }
      }
    }
    this.worker = DaemonThread.single("capstan-source-kubernetes");
  }

  /** The Gateway API route kinds the waypoints act on. */
  static final List<ResourceDefinitionContext> ROUTE_KINDS = List.of(
      route("HTTPRoute", "httproutes"), route("GRPCRoute", "grpcroutes"));

  private static ResourceDefinitionContext route(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("gateway.networking.k8s.io").withVersion("v1")
        .withKind(kind).withPlural(plural).withNamespaced(true).build();
  }

  /**
   * The route kinds the API server serves (API discovery). The Gateway API's CRDs are optional in a
   * cluster: a kind that is not served is not watched (an informer on it would never sync and hold
   * the whole mesh back), with a warning; installing the CRDs later needs a controller restart.
   */
  private static List<ResourceDefinitionContext> routeKinds(KubernetesClient client) {
    List<ResourceDefinitionContext> served = new ArrayList<>();
    for (ResourceDefinitionContext kind : ROUTE_KINDS) {
      boolean supported;
      try {
        supported = client.supports(kind.getGroup() + "/" + kind.getVersion(), kind.getKind());
      } catch (RuntimeException e) {
        LOG.warn("cannot tell whether the API server serves {}: {}", kind.getKind(), e.toString());
        supported = false;
      }
      if (supported) {
        served.add(kind);
      } else {
        LOG.warn("{} (gateway.networking.k8s.io/v1) is not served by the API server: routes of that kind are not read;"
            + " install the Gateway API CRDs and restart the controller", kind.getKind());
      }
    }
    return served;
  }

  @Override
  public void start(Consumer<MeshSnapshot> onChange) {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("already started");
    }
    emitter = new ChangeEmitter("kubernetes", onChange);
    ResourceEventHandler<HasMetadata> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(HasMetadata obj) {
        changed();
      }

      @Override
      public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
        changed();
      }

      @Override
      public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
        if (deletedFinalStateUnknown) {
          LOG.debug("{} {}/{} deleted while the watch was down (tombstone)", obj.getKind(),
              obj.getMetadata().getNamespace(), obj.getMetadata().getName());
        }
        changed();
      }
    };
    List<CompletableFuture<Void>> synced = new ArrayList<>();
    for (SharedIndexInformer<? extends HasMetadata> informer : all()) {
      informer.addEventHandler(handler);
      informer.exceptionHandler((isStarted, t) -> {
        LOG.warn("{} informer: list/watch failed ({}); retrying", informer.getApiTypeClass().getSimpleName(), t.toString());
        return !closed;
      });
      synced.add(informer.start().toCompletableFuture());
    }
    CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
      if (t != null) {
        if (!closed) {
          LOG.error("informers stopped before syncing", t);
        }
        return;
      }
      LOG.info("informers synced ({} namespaces, {} pods, {} services, {} EndpointSlices, {} AuthorizationPolicies,"
          + " {} TrafficPolicies, {} Waypoints, {} routes)", namespaces.list().size(), pods.list().size(),
          services.list().size(), endpointSlices.list().size(), policies.list().size(), trafficPolicies.list().size(),
          waypoints.list().size(), routes.list().size());
      changed();
    });
  }

  @Override
  public Optional<MeshSnapshot> current() {
    ChangeEmitter e = emitter;
    return e == null ? Optional.empty() : e.current();
  }

  @Override
  public Optional<PodInfo> pod(String namespace, String name) {
    String key = Cache.namespaceKeyFunc(namespace, name);
    for (SharedIndexInformer<Pod> informer : pods.informers) {
      Pod pod = informer.getStore().getByKey(key);
      if (pod != null) {
        return PodInfo.of(pod);
      }
    }
    return Optional.empty();
  }

  /** A Waypoint resource from the informer cache (the controller needs its uid to own what it creates for it). */
  public Optional<WaypointResource> waypoint(String namespace, String name) {
    String key = Cache.namespaceKeyFunc(namespace, name);
    for (SharedIndexInformer<WaypointResource> informer : waypoints.informers) {
      WaypointResource w = informer.getStore().getByKey(key);
      if (w != null) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  /** Every Waypoint resource in the informer caches, whatever its namespace (the status writer reports on each). */
  public List<WaypointResource> waypoints() {
    return waypoints.list();
  }

  /** Whether the namespace is enrolled in the mesh, by the informer cache. */
  public boolean enrolled(String namespace) {
    for (SharedIndexInformer<Namespace> informer : namespaces.informers) {
      Namespace n = informer.getStore().getByKey(Cache.namespaceKeyFunc(null, namespace));
      if (n != null) {
        return !Translator.enrolledNamespaces(List.of(n)).isEmpty();
      }
    }
    return false;
  }

  /** A Service from the informer cache. */
  public Optional<Service> service(String namespace, String name) {
    String key = Cache.namespaceKeyFunc(namespace, name);
    for (SharedIndexInformer<Service> informer : services.informers) {
      Service s = informer.getStore().getByKey(key);
      if (s != null) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /**
   * Calls {@code listener} after every event on a Waypoint resource, status updates included (on
   * an informer's thread: it must only hand work over). The mesh itself changes only when the
   * Waypoint's model does; the status writer also reports on Waypoints the mesh leaves out.
   */
  public void onWaypointEvent(Runnable listener) {
    Objects.requireNonNull(listener, "listener");
    ResourceEventHandler<WaypointResource> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(WaypointResource obj) {
        listener.run();
      }

      @Override
      public void onUpdate(WaypointResource oldObj, WaypointResource newObj) {
        listener.run();
      }

      @Override
      public void onDelete(WaypointResource obj, boolean deletedFinalStateUnknown) {
        listener.run();
      }
    };
    waypoints.informers.forEach(i -> i.addEventHandler(handler));
  }

  /** Whether every informer has listed its objects once. */
  public boolean hasSynced() {
    return all().stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /** Whether every informer has its watch open (after its first list); for tests that stop it. */
  public boolean watching() {
    return all().stream().allMatch(SharedIndexInformer::isWatching);
  }

  /** The options this source watches with. */
  public Options options() {
    return options;
  }

  @Override
  public void close() {
    closed = true;
    all().forEach(SharedIndexInformer::stop);
    worker.shutdownNow();
  }

  private void changed() {
    if (closed || !dirty.compareAndSet(false, true)) {
      return;
    }
    try {
      worker.schedule(this::recompute, options.debounce().toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      dirty.set(false);
    }
  }

  private void recompute() {
    dirty.set(false);
    if (closed || !hasSynced()) {
      return;
    }
    try {
      Resources resources = new Resources(namespaces.list(), pods.list(), services.list(), endpointSlices.list(),
          policies.list(), trafficPolicies.list(), waypoints.list(), routes.list());
      emitter.offer(Translator.translate(resources));
    } catch (RuntimeException e) {
      LOG.error("computing the mesh from the informer caches failed; the last snapshot stays in force", e);
    }
  }

  private List<SharedIndexInformer<? extends HasMetadata>> all() {
    List<SharedIndexInformer<? extends HasMetadata>> all = new ArrayList<>();
    all.addAll(namespaces.informers);
    all.addAll(pods.informers);
    all.addAll(services.informers);
    all.addAll(endpointSlices.informers);
    all.addAll(policies.informers);
    all.addAll(trafficPolicies.informers);
    all.addAll(waypoints.informers);
    all.addAll(routes.informers);
    return all;
  }

  /** The informers of one kind (one, or one per watched namespace) and their merged cache. */
  private static final class Informers<T extends HasMetadata> {
    final List<SharedIndexInformer<T>> informers = new ArrayList<>();

    void add(SharedIndexInformer<T> informer) {
      informers.add(informer);
    }

    List<T> list() {
      List<T> all = new ArrayList<>();
      informers.forEach(i -> all.addAll(i.getStore().list()));
      return all;
    }
  }
}

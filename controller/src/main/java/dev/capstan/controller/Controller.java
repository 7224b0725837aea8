package dev.capstan.controller;

import com.hazelcast.core.HazelcastInstance;
import dev.capstan.controller.ca.Authenticator;
import dev.capstan.controller.ca.BootstrapTokens;
import dev.capstan.controller.ca.CaConfig;
import dev.capstan.controller.ca.CaServer;
import dev.capstan.controller.ca.CaSource;
import dev.capstan.controller.ca.FileCaStore;
import dev.capstan.controller.ca.KubernetesPodLookup;
import dev.capstan.controller.ca.PodLookup;
import dev.capstan.controller.ca.ProvidedCa;
import dev.capstan.controller.ca.RootConfigMap;
import dev.capstan.controller.ca.SecretCaStore;
import dev.capstan.controller.ca.SigningCa;
import dev.capstan.controller.ca.TokenReviewAuthenticator;
import dev.capstan.controller.ca.WaypointAccounts;
import dev.capstan.controller.cluster.LeaseLeadership;
import dev.capstan.controller.cluster.Leadership;
import dev.capstan.controller.cluster.Members;
import dev.capstan.controller.cluster.OldestMember;
import dev.capstan.controller.publish.Distribution;
import dev.capstan.controller.publish.Publisher;
import dev.capstan.controller.source.KubernetesSource;
import dev.capstan.controller.source.ManifestSource;
import dev.capstan.controller.source.MeshSource;
import dev.capstan.controller.waypoint.WaypointDeployer;
import dev.capstan.controller.waypoint.WaypointManifests;
import dev.capstan.controller.waypoint.WaypointStatusWriter;
import dev.capstan.core.admin.AdminServers;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Waypoint;
import dev.capstan.core.model.Workload;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One controller replica, wired by hand: metrics → Hazelcast member → leadership → publisher →
 * source → CA → admin. Every replica watches the source and serves CSRs; the leader alone writes
 * the mesh maps.
 */
public final class Controller implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

  private final ControllerConfig config;
  private final PrometheusMeterRegistry registry;
  private final HazelcastInstance hazelcast;
  private final Leadership leadership;
  private final Distribution distribution;
  private final MeshSource source;
  private final Optional<KubernetesClient> kubernetes;
  private final Vertx vertx;
  private final CaServer ca;
  private final AdminServers admin;
  private final Placements placements;
  private final Optional<WaypointDeployer> waypoints;
  private final Optional<WaypointStatusWriter> waypointStatus;

  private Controller(ControllerConfig config, PrometheusMeterRegistry registry, HazelcastInstance hazelcast,
      Leadership leadership, Distribution distribution, MeshSource source, Optional<KubernetesClient> kubernetes,
      Vertx vertx, CaServer ca, AdminServers admin, Placements placements, Optional<WaypointDeployer> waypoints,
      Optional<WaypointStatusWriter> waypointStatus) {
    this.config = config;
    this.registry = registry;
    this.hazelcast = hazelcast;
    this.leadership = leadership;
    this.distribution = distribution;
    this.source = source;
    this.kubernetes = kubernetes;
    this.vertx = vertx;
    this.ca = ca;
    this.admin = admin;
    this.placements = placements;
    this.waypoints = waypoints;
    this.waypointStatus = waypointStatus;
  }

  /**
   * Starts a replica; throws if a part cannot start. In a cluster it talks to the API server of
   * its in-cluster config or {@code KUBECONFIG}.
   */
  public static Controller start(ControllerConfig config) throws Exception {
    boolean inCluster = config.source() instanceof ControllerConfig.Kubernetes
        || config.ca().root() instanceof ControllerConfig.RootSecret;
    return start(config, inCluster ? Optional.of(new KubernetesClientBuilder().build()) : Optional.empty());
  }

  /** Starts a replica with this Kubernetes client (closed with the replica). */
  public static Controller start(ControllerConfig config, Optional<KubernetesClient> kubernetes) throws Exception {
    Clock clock = Clock.systemUTC();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HazelcastInstance hazelcast = Members.start(config.hazelcast(), "capstan-controller-" + config.name());
    Leadership leadership = config.leader() == ControllerConfig.Leader.LEASE
        ? new LeaseLeadership(kubernetes.orElseThrow(), config.namespace(), "capstan-controller", config.name())
        : new OldestMember(hazelcast);
    Distribution distribution = new Distribution(new Publisher(hazelcast, config.name(), clock, registry), leadership);
    Placements placements = new Placements();
    MeshSource source = source(config, kubernetes);
    CaConfig caConfig = new CaConfig(config.trustDomain(), config.namespace(), "capstan-controller",
        config.ca().listen().getHostString(), config.ca().listen().getPort(), config.ca().serverNames(),
        config.ca().leafValidity(), config.ca().leafValidity(), Duration.ofDays(3650), Duration.ofHours(24),
        CaConfig.DEFAULT_AUDIENCE, "capstan-node-agent");
    SigningCa signing = caSource(config, caConfig, kubernetes, clock).signingCa();
    // Waypoint pods ask the CA through the controller's Service (the chart's), verifying its SPIFFE ID.
    Optional<WaypointDeployer> waypoints = config.waypoints().deploy() && source instanceof KubernetesSource k
        ? Optional.of(new WaypointDeployer(kubernetes.orElseThrow(), new WaypointManifests.Settings(config.waypoints().image(),
            config.waypoints().imagePullPolicy(), config.trustDomain(), config.hazelcast().clusterName(),
            config.waypoints().members(), "capstan-controller." + config.namespace() + ".svc:" + CaConfig.DEFAULT_PORT,
            caConfig.serverIdentity().toString(), signing.rootPem()), leadership, k::waypoint, config.waypoints().resync()))
        : Optional.empty();
    // In a cluster the leader reports each Waypoint's conditions in its status.
    Optional<WaypointStatusWriter> waypointStatus = source instanceof KubernetesSource k
        ? Optional.of(new WaypointStatusWriter(kubernetes.orElseThrow(), leadership, WaypointStatusWriter.Caches.of(k),
            new WaypointStatusWriter.Settings(k.options().namespaces(), config.waypoints().deploy(),
                config.waypoints().resync(), Duration.ofSeconds(10)), clock))
        : Optional.empty();
    source.start(snapshot -> {
      placements.update(snapshot);
      distribution.offer(snapshot);
      waypoints.ifPresent(w -> w.offer(snapshot));
      waypointStatus.ifPresent(w -> w.offer(snapshot));
    });

    kubernetes.ifPresent(k -> new RootConfigMap(k, config.namespace()).publish(signing));
    Authenticator authenticator = config.ca().bootstrapTokens().isPresent()
        ? BootstrapTokens.load(config.ca().bootstrapTokens().get(), placements, config.trustDomain())
        : TokenReviewAuthenticator.of(kubernetes.orElseThrow(), pods(source, kubernetes.orElseThrow()), placements, caConfig);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(4));
    CaServer ca = new CaServer(vertx, caConfig, signing, authenticator, placements, registry, clock)
        .start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

    Controller[] self = new Controller[1];
    AdminServers admin = AdminServers.start(vertx, config.admin(), registry::scrape,
        () -> self[0].configDump(), () -> self[0] != null && self[0].ready());
    Controller controller = new Controller(config, registry, hazelcast, leadership, distribution, source, kubernetes,
        vertx, ca, admin, placements, waypoints, waypointStatus);
    self[0] = controller;
    LOG.info("controller {} started: Hazelcast {} (cluster {}), CA on port {}, source {}", config.name(),
        hazelcast.getCluster().getLocalMember().getAddress(), config.hazelcast().clusterName(), ca.port(),
        config.source());
    return controller;
  }

  private static MeshSource source(ControllerConfig config, Optional<KubernetesClient> kubernetes) {
    if (config.source() instanceof ControllerConfig.Manifests m) {
      return new ManifestSource(m.dir(), m.pollInterval());
    }
    ControllerConfig.Kubernetes k = (ControllerConfig.Kubernetes) config.source();
    return new KubernetesSource(kubernetes.orElseThrow(),
        new KubernetesSource.Options(k.namespaces(), k.resync(), k.debounce()));
  }

  private static CaSource caSource(ControllerConfig config, CaConfig caConfig, Optional<KubernetesClient> kubernetes,
      Clock clock) {
    ControllerConfig.RootStore root = config.ca().root();
    if (root instanceof ControllerConfig.RootDir dir) {
      return new FileCaStore(dir.dir(), config.trustDomain(), caConfig.rootValidity(), clock);
    } else if (root instanceof ControllerConfig.ProvidedRoot provided) {
      return new ProvidedCa(provided.certChain(), provided.key());
    }
    return new SecretCaStore(kubernetes.orElseThrow(), config.namespace(), config.trustDomain(), caConfig.rootValidity(),
        clock);
  }

  /** Pods from the informer cache when the source watches their namespace, else from the API. */
  private static PodLookup pods(MeshSource source, KubernetesClient client) {
    KubernetesPodLookup api = new KubernetesPodLookup(client);
    return (namespace, name) -> source.pod(namespace, name)
        .map(p -> new PodLookup.PodInfo(p.uid(), p.node()))
        .or(() -> api.pod(namespace, name));
  }

  /**
   * Which service accounts have workloads on which node (what node authorization asks), and which
   * service account each Waypoint runs as (what a waypoint's own certificate is for).
   */
  static final class Placements implements dev.capstan.controller.ca.Placement, WaypointAccounts {
    private volatile Set<String> keys = Set.of();
    /** Service account by Waypoint key {@code namespace/name}. */
    private volatile Map<String, String> waypointAccounts = Map.of();
    /** {@code namespace/serviceAccount} of every Waypoint. */
    private volatile Set<String> waypointAccountKeys = Set.of();

    void update(MeshSnapshot snapshot) {
      Set<String> next = new HashSet<>();
      for (Workload w : snapshot.workloads()) {
        next.add(key(w.node(), w.namespace(), w.serviceAccount()));
      }
      Map<String, String> accounts = new HashMap<>();
      Set<String> accountKeys = new HashSet<>();
      for (Waypoint w : snapshot.waypoints()) {
        accounts.put(w.key(), w.serviceAccount());
        accountKeys.add(w.namespace() + "/" + w.serviceAccount());
      }
      keys = Set.copyOf(next);
      waypointAccounts = Map.copyOf(accounts);
      waypointAccountKeys = Set.copyOf(accountKeys);
    }

    @Override
    public Optional<String> serviceAccount(String namespace, String name) {
      return Optional.ofNullable(waypointAccounts.get(namespace + "/" + name));
    }

    @Override
    public boolean anyRunsAs(String namespace, String serviceAccount) {
      return waypointAccountKeys.contains(namespace + "/" + serviceAccount);
    }

    @Override
    public boolean runsOn(String node, String namespace, String serviceAccount) {
      return keys.contains(key(node, namespace, serviceAccount));
    }

    private static String key(String node, String namespace, String serviceAccount) {
      return node + '\n' + namespace + '\n' + serviceAccount;
    }
  }

  /** Ready once the source delivered a full mesh and the Hazelcast member runs. */
  public boolean ready() {
    return source.current().isPresent() && hazelcast.getLifecycleService().isRunning();
  }

  public boolean leader() {
    return leadership.isLeader();
  }

  /** What {@code /config_dump} shows. */
  public Map<String, Object> configDump() {
    Map<String, Object> dump = new LinkedHashMap<>();
    dump.put("name", config.name());
    dump.put("leader", leadership.isLeader());
    dump.put("ready", ready());
    dump.put("members", hazelcast.getCluster().getMembers().stream().map(m -> m.getAddress().toString()).toList());
    // Agents, waypoints and redirects connected to this member (`capstan status` lists them).
    dump.put("clients", hazelcast.getClientService().getConnectedClients().stream()
        .map(c -> Map.of("name", String.valueOf(c.getName()), "address", String.valueOf(c.getSocketAddress())))
        .sorted(java.util.Comparator.comparing(c -> c.get("name")))
        .toList());
    MeshSnapshot latest = distribution.latest();
    dump.put("sourceVersion", latest == null ? null : latest.version());
    Publisher.Result last = distribution.lastResult();
    dump.put("published", last == null ? null : Map.of("version", last.version().label(), "written", last.written(),
        "removed", last.removed()));
    dump.put("caPort", ca.port());
    dump.put("mesh", latest);
    return dump;
  }

  public Distribution distribution() {
    return distribution;
  }

  public HazelcastInstance hazelcast() {
    return hazelcast;
  }

  public int caPort() {
    return ca.port();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Ports of admin, metrics and ready. */
  public java.util.List<Integer> adminPorts() {
    return admin.ports();
  }

  /** The Hazelcast address agents connect to. */
  public InetSocketAddress hazelcastAddress() {
    return hazelcast.getCluster().getLocalMember().getSocketAddress();
  }

  @Override
  public void close() {
    admin.close();
    ca.close();
    source.close();
    waypoints.ifPresent(WaypointDeployer::close);
    waypointStatus.ifPresent(WaypointStatusWriter::close);
    leadership.close();
    distribution.close();
    hazelcast.shutdown();
    vertx.close();
    kubernetes.ifPresent(KubernetesClient::close);
  }
}

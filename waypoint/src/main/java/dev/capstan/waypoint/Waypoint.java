package dev.capstan.waypoint;

import dev.capstan.core.admin.AdminServers;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.gateway.Routes;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Transport;
import dev.capstan.core.mesh.MeshFile;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.policy.TrafficPolicyManifest;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.core.tls.TrustBundle;
import dev.capstan.waypoint.config.WaypointConfig;
import dev.capstan.waypoint.proxy.Inbound;
import dev.capstan.waypoint.state.HazelcastWaypointView;
import dev.capstan.waypoint.state.WaypointView;
import dev.capstan.waypoint.telemetry.RequestTelemetry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running waypoint, wired by hand: its identity from files; the mesh and the routes from the
 * controller through Hazelcast ({@code controller} in its config: ready once the first version is
 * loaded, the last known version kept while the controller is away), or from files (re-read when
 * they change; the last good version is kept when a new one does not parse); the HBONE listener,
 * and the admin, metrics and readiness servers. Everything is bound before {@link #start} returns.
 */
public final class Waypoint implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Waypoint.class);

  private final WaypointConfig config;
  private final AtomicReference<WaypointView> view = new AtomicReference<>();
  private final Map<Path, Long> seen = new LinkedHashMap<>();
  private final EventLoopGroup group;
  private final Channel listener;
  private final Inbound inbound;
  private final ScheduledExecutorService reloads;
  private final HazelcastWaypointView controller;
  private final Vertx vertx;
  private final AdminServers admin;

  private Waypoint(WaypointConfig config) throws Exception {
    this.config = config;
    SpiffeId identity = SpiffeId.of(config.trustDomain(), config.namespace(), config.serviceAccount());
    Path dir = config.certs().resolve(config.namespace()).resolve(config.serviceAccount());
    CertifiedKey key = new CertifiedKey(identity, Pem.privateKey(read(dir.resolve("key.pem"))),
        Pem.certificates(read(dir.resolve("cert-chain.pem"))));
    TrustBundle bundle = new TrustBundle(Pem.certificates(read(config.certs().resolve("root-cert.pem"))));
    MeshTls tls = new MeshTls(new SpiffeTrustManager(config.trustDomain(), bundle, Clock.systemUTC()), TlsEngine.AUTO);
    SslContext server = tls.server(key);
    SslContext client = tls.client(key);
    if (config.controller().isPresent()) {
      controller = new HazelcastWaypointView(config.controller().get(),
          "capstan-waypoint-" + config.namespace() + "-" + java.util.UUID.randomUUID(), java.time.Duration.ofSeconds(5));
      controller.onChange(next -> LOG.info("waypoint config from the controller: version {}, {} route(s)", next.version(),
          next.routeCount()));
    } else {
      controller = null;
      view.set(load());
    }

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Transport transport = Transport.best();
    group = transport.newGroup(Math.max(1, Runtime.getRuntime().availableProcessors()), "capstan-waypoint-io");
    inbound = new Inbound(
        new Inbound.Settings(config.trustDomain(), config.hbonePort(), config.maxBody(), config.requestTimeout(), 100,
            config.maxHeaderSize(), config.requestReadTimeout(), java.time.Duration.ofSeconds(30)),
        // Dialed from its pod address: a destination agent believes its Forwarded only from there.
        this::view, () -> client, new Bootstrap().channel(transport.socketChannel())
            .localAddress(new InetSocketAddress(config.listen().getAddress(), 0)), HboneSettings.defaults(),
        new RequestTelemetry(registry));
    listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> java.util.Optional.of(new HboneServer.ServerTls(identity, server)),
            HboneSettings.defaults(), inbound))
        .bind(config.listen()).sync().channel();
    reloads = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "capstan-waypoint-config");
      t.setDaemon(true);
      return t;
    });
    long every = config.reloadInterval().toMillis();
    if (controller == null) {
      reloads.scheduleWithFixedDelay(this::reloadIfChanged, every, every, TimeUnit.MILLISECONDS);
    }
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    admin = AdminServers.start(vertx, new AdminServers.Addresses(config.admin(), config.metrics(), config.ready()),
        registry::scrape, this::configDump, () -> controller == null || controller.ready());
    LOG.info("waypoint {} listening for HBONE on {} (transport {}), mesh version {}, {} route(s)", identity,
        listener.localAddress(), transport.name(), view().version(), view().routeCount());
  }

  /** Starts a waypoint; fails (with the reason) if a file is missing or bad, or a port cannot be bound. */
  public static Waypoint start(WaypointConfig config) throws Exception {
    return new Waypoint(config);
  }

  /** Where it accepts HBONE. */
  public InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  /** The admin, metrics and readiness ports, in that order. */
  public List<Integer> adminPorts() {
    return admin.ports();
  }

  /** The view requests are routed by now. */
  public WaypointView view() {
    return controller != null ? controller.current() : view.get();
  }

  /** Whether it has a mesh to route by: always from files; from the controller once the first version is loaded. */
  public boolean ready() {
    return controller == null || controller.ready();
  }

  private Object configDump() {
    WaypointView v = view();
    return Map.of("namespace", config.namespace(), "version", v.version(), "ready", ready(),
        "source", controller == null ? "files" : "controller", "routes", v.routeKeys(), "listen", String.valueOf(listener.localAddress()));
  }

  /** Reads the mesh file and the route manifests into a view. */
  private WaypointView load() throws IOException {
    Path meshFile = config.mesh().orElseThrow();
    MeshSnapshot mesh = MeshFile.parse(read(meshFile), meshFile.toString());
    seen.put(meshFile, Files.getLastModifiedTime(meshFile).toMillis());
    List<HttpRoute> routes = new ArrayList<>();
    List<TrafficPolicy> trafficPolicies = new ArrayList<>(mesh.trafficPolicies());
    if (config.routes().isPresent()) {
      try (Stream<Path> files = Files.list(config.routes().get())) {
        for (Path p : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList()) {
          String text = read(p);
          String kind = Fields.parse(text, p.toString()).string("kind");
          if (kind.equals("TrafficPolicy")) { // the routes directory also holds the clusterless TrafficPolicies
            trafficPolicies.add(TrafficPolicyManifest.parse(text, p.toString()));
          } else {
            routes.add(Routes.parse(kind, text, p.toString()));
          }
          seen.put(p, Files.getLastModifiedTime(p).toMillis());
        }
      }
    }
    return new WaypointView(
        mesh.version() + "+" + Integer.toHexString(java.util.Objects.hash(routes, trafficPolicies)), mesh.services(),
        mesh.workloads(), routes, trafficPolicies, mesh.policies());
  }

  private void reloadIfChanged() {
    try {
      if (!changed()) {
        return;
      }
      WaypointView next = load();
      view.set(next);
      LOG.info("waypoint config reloaded: version {}, {} route(s)", next.version(), next.routeCount());
    } catch (IOException | ConfigException e) {
      LOG.warn("waypoint config not reloaded, keeping version {}: {}", view.get().version(), e.getMessage());
    }
  }

  private boolean changed() throws IOException {
    Path meshFile = config.mesh().orElseThrow();
    if (Files.getLastModifiedTime(meshFile).toMillis() != seen.getOrDefault(meshFile, -1L)) {
      return true;
    }
    if (config.routes().isPresent()) {
      try (Stream<Path> files = Files.list(config.routes().get())) {
        List<Path> now = files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).toList();
        if (now.size() != seen.size() - 1) {
          return true;
        }
        for (Path p : now) {
          if (Files.getLastModifiedTime(p).toMillis() != seen.getOrDefault(p, -1L)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  /** Stops listening and closes every connection; waits up to a few seconds. */
  @Override
  public void close() {
    reloads.shutdownNow();
    if (controller != null) {
      controller.close();
    }
    admin.close();
    inbound.close();
    listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    vertx.close();
  }
}

package dev.capstan.waypoint;

import dev.capstan.core.admin.AdminServers;
import dev.capstan.core.ca.Scheduler;
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
import dev.capstan.waypoint.config.WaypointConfig;
import dev.capstan.waypoint.identity.WaypointCertificates;
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
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running waypoint, wired by hand: its identity from files or from the controller's CA (renewed
 * at half-life; not ready until the first certificate is in); the mesh and the routes from the
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
  private final ScheduledExecutorService certificateThread;
  private final WaypointCertificates certificates;

  private Waypoint(WaypointConfig config, Optional<Scheduler> certificateScheduler) throws Exception {
    this.config = config;
    SpiffeId identity = SpiffeId.of(config.trustDomain(), config.namespace(), config.serviceAccount());
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    certificateThread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "capstan-waypoint-certs");
      t.setDaemon(true);
      return t;
    });
    try {
      if (config.certs() instanceof WaypointConfig.CertAuthority ca) {
        certificates = WaypointCertificates.fromCa(vertx, identity, ca, config.trustDomain(),
            certificateScheduler.orElseGet(() -> Scheduler.over(certificateThread)), Clock.systemUTC());
      } else {
        certificates = WaypointCertificates.fromFiles(identity, (WaypointConfig.CertFiles) config.certs(),
            config.trustDomain());
      }
    } catch (Exception e) {
      certificateThread.shutdownNow();
      vertx.close();
      throw e;
    }
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
        this::view, certificates::client, new Bootstrap().channel(transport.socketChannel())
            .localAddress(new InetSocketAddress(config.listen().getAddress(), 0)), HboneSettings.defaults(),
        new RequestTelemetry(registry));
    listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> certificates.server(), HboneSettings.defaults(), inbound))
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
    admin = AdminServers.start(vertx, new AdminServers.Addresses(config.admin(), config.metrics(), config.ready()),
        registry::scrape, this::configDump, this::ready);
    LOG.info("waypoint {} listening for HBONE on {} (transport {}), certificate from {}{}, mesh version {}, {} route(s)",
        identity, listener.localAddress(), transport.name(), certificates.source(),
        certificates.ready() ? "" : " (not ready until it is issued)", view().version(), view().routeCount());
  }

  /**
   * Starts a waypoint; fails (with the reason) if a file is missing or bad, or a port cannot be
   * bound. With {@code ca} in its config it returns before its certificate is issued: it is not
   * {@link #ready} until then.
   */
  public static Waypoint start(WaypointConfig config) throws Exception {
    return new Waypoint(config, Optional.empty());
  }

  /** A waypoint whose certificate manager runs on {@code certificateScheduler} (tests drive renewals). */
  static Waypoint start(WaypointConfig config, Scheduler certificateScheduler) throws Exception {
    return new Waypoint(config, Optional.of(certificateScheduler));
  }

  /** Its certificate now, if it has one. */
  public Optional<CertifiedKey> certificate() {
    return certificates.certificate();
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

  /**
   * Whether it has a certificate (from files: always; from the CA: once issued, until it expires
   * unrenewed) and a mesh to route by (from files: always; from the controller: once the first
   * version is loaded).
   */
  public boolean ready() {
    return certificates.ready() && (controller == null || controller.ready());
  }

  private Object configDump() {
    WaypointView v = view();
    Map<String, Object> certificate = new LinkedHashMap<>();
    certificate.put("identity", certificates.identity().toString());
    certificate.put("source", certificates.source());
    certificates.certificate().ifPresent(k -> {
      certificate.put("serial", k.leaf().getSerialNumber().toString(16));
      certificate.put("notAfter", k.notAfter().toString());
    });
    return Map.of("namespace", config.namespace(), "version", v.version(), "ready", ready(), "source", controller == null ? "files" : "controller", "routes", v.routeKeys(),
        "listen", String.valueOf(listener.localAddress()), "certificate", certificate);
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
    certificates.close();
    certificateThread.shutdownNow();
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

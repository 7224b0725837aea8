package dev.capstan.nodeagent;

import dev.capstan.core.admin.AdminServers;
import dev.capstan.core.ca.CaClient;
import dev.capstan.core.ca.CertificateManager;
import dev.capstan.core.ca.Scheduler;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Hold;
import dev.capstan.core.io.Transport;
import dev.capstan.core.mesh.MeshFile;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TrustBundle;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.nodeagent.drain.Drain;
import dev.capstan.nodeagent.identity.Identities;
import dev.capstan.nodeagent.metrics.AccessLog;
import dev.capstan.nodeagent.metrics.EventLoopDelay;
import dev.capstan.nodeagent.metrics.ProxyMetrics;
import dev.capstan.nodeagent.proxy.Inbound;
import dev.capstan.nodeagent.proxy.Listeners;
import dev.capstan.nodeagent.proxy.Outbound;
import dev.capstan.nodeagent.proxy.Pool;
import dev.capstan.nodeagent.quota.LoadGovernor;
import dev.capstan.nodeagent.quota.TenantBudget;
import dev.capstan.nodeagent.quota.TenantLimits;
import dev.capstan.nodeagent.state.FileMeshView;
import dev.capstan.nodeagent.state.HazelcastMeshView;
import dev.capstan.nodeagent.state.MeshIndex;
import dev.capstan.nodeagent.state.MeshView;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent, wired by hand: config → metrics → trust → identities → mesh view → event loops →
 * pool → outbound/inbound → listeners → admin. Every listener is bound before the agent reports
 * ready.
 */
public final class NodeAgent implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

  private final AgentConfig config;
  private final ProxyMetrics metrics;
  private final MeshView mesh;
  private final Runnable meshTick;
  private final Identities identities;
  private final Pool pool;
  private final Listeners listeners;
  private final Drain drain;
  private final EventLoopGroup workers;
  private final EventLoopDelay loopDelay;
  private final ScheduledExecutorService governorTicks;
  private final ScheduledExecutorService background;
  private final Vertx vertx;
  private final ScheduledExecutorService certificates;
  private final CaClient caClient;
  private final CertificateManager manager;
  private final AdminServers admin;
  private final Transport transport;
  private final MeshTls tls;
  private volatile boolean ready;
  private Runnable bindCapture;
  private volatile boolean listenersBound;

  private NodeAgent(Builder b) {
    this.config = b.config;
    this.metrics = b.metrics;
    this.mesh = b.mesh;
    this.meshTick = b.meshTick;
    this.identities = b.identities;
    this.pool = b.pool;
    this.listeners = b.listeners;
    this.drain = b.drain;
    this.workers = b.workers;
    this.loopDelay = b.loopDelay;
    this.governorTicks = b.governorTicks;
    this.background = b.background;
    this.vertx = b.vertx;
    this.certificates = b.certificates;
    this.caClient = b.caClient;
    this.manager = b.manager;
    this.admin = b.admin;
    this.transport = b.transport;
    this.tls = b.tls;
  }

  /** Starts an agent; throws if any part cannot start. */
  public static NodeAgent start(AgentConfig config) throws Exception {
    Builder b = new Builder();
    b.config = config;
    b.metrics = new ProxyMetrics();
    TrustBundle bundle = Identities.readRoot(config.certs().root());
    b.tls = new MeshTls(new SpiffeTrustManager(config.trustDomain(), bundle, Clock.systemUTC()), config.tlsEngine());
    Runnable certificateError = b.metrics.reloadErrors("certificates")::increment;
    b.identities = config.certs() instanceof AgentConfig.CertFiles files
        ? new Identities(files.dir(), bundle, b.tls, certificateError)
        : Identities.fromCa(config.certs().root(), bundle, b.tls, certificateError);
    if (config.mesh() instanceof AgentConfig.MeshFile file) {
      FileMeshView view = new FileMeshView(file.path(), b.metrics.reloadErrors("mesh")::increment);
      b.mesh = view;
      b.meshTick = view::poll;
    } else {
      // Empty until the first full load; listeners and certificates follow through onChange.
      b.mesh = new HazelcastMeshView((AgentConfig.Controller) config.mesh(), "capstan-agent-" + config.node(),
          java.time.Duration.ofSeconds(5));
      b.meshTick = () -> { };
    }
    // Native transport: the admin servers share their ports (SO_REUSEPORT) with a restarting agent.
    b.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1).setInternalBlockingPoolSize(1)
        .setPreferNativeTransport(true));
    b.certificates = Executors.newSingleThreadScheduledExecutor(daemon("capstan-certs"));
    if (config.certs() instanceof AgentConfig.CertAuthority ca) {
      // Keys are made here; the CA signs only identities of workloads it has placed on this node.
      b.caClient = new CaClient(b.vertx, CaClient.Settings.of(ca.host(), ca.port(), ca.token(), ca.identity()),
          bundle, config.trustDomain(), Clock.systemUTC());
      ProxyMetrics metrics = b.metrics;
      b.manager = new CertificateManager(b.caClient, b.identities::install, b.identities::remove,
          Scheduler.over(b.certificates), Clock.systemUTC(), CertificateManager.Settings.defaults(),
          java.util.random.RandomGenerator.getDefault(), new CertificateManager.Events() {
            @Override
            public void failed(SpiffeId id, Throwable cause, Duration retryIn) {
              metrics.reloadErrors("certificates").increment();
              LOG.warn("certificate for {} not issued, retrying in {}: {}", id, retryIn, cause.getMessage());
            }

            @Override
            public void expired(SpiffeId id) {
              LOG.error("certificate for {} expired before it could be renewed: its workloads cannot send or receive", id);
            }
          });
    }
    CertificateManager manager = b.manager;
    Runnable refreshCertificates = () -> {
      Set<SpiffeId> wanted = localIdentities(config, b.mesh.current());
      b.identities.refresh(wanted);
      if (manager != null) {
        manager.update(wanted);
      }
    };
    refreshCertificates.run();

    b.transport = Transport.best();
    b.workers = b.transport.newGroup(config.workerThreads(), "capstan-io");
    b.drain = new Drain();
    AccessLog accessLog = new AccessLog(config.accessLog());

    Bootstrap hboneClient = new Bootstrap()
        .channel(b.transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Listeners.WATERMARKS)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis());
    Bootstrap workloadClient = new Bootstrap()
        .channel(b.transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Listeners.WATERMARKS)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            // Keeps what the workload sends before the splice starts (server-first protocols).
            ch.pipeline().addLast(new Hold());
          }
        });
    if (config.capture().isPresent()) {
      if (!b.transport.transparentCapable()) {
        throw new IllegalStateException("capture needs Netty's native epoll transport (IP_TRANSPARENT, SO_MARK), which did not load here");
      }
      // The redirect never captures packets of the agent's own connections (the mark is its exemption).
      hboneClient.option(Transport.SO_MARK, config.capture().get().mark());
      workloadClient.option(Transport.SO_MARK, config.capture().get().mark());
      // Connections to workloads may carry the source pod's address (a non-local, transparent bind).
      workloadClient.option(io.netty.channel.epoll.EpollChannelOption.IP_TRANSPARENT, true);
    }
    b.quota = quota(config.quota(), b.metrics);
    // DATA waiting in a pooled connection's streams belongs to the source tenant it carries.
    TenantBudget budget = b.quota;
    b.pool = new Pool(hboneClient, config.hbone(), config.pool(), b.metrics,
        key -> budget.openQueue(budget.tenant(key.source().namespace())));
    // The overload governor: event-loop lateness in, per-tenant read-rate limits out (docs/flow-control.md, "CPU").
    LoadGovernor governor = config.quota().loopDelayTarget().isZero() ? null
        : new LoadGovernor(b.quota, LoadGovernor.Settings.defaults(config.quota().loopDelayTarget()), System.nanoTime());
    b.loopDelay = new EventLoopDelay(b.workers, b.metrics.registry(), governor == null ? (loop, late) -> { } : governor::lateness);
    b.governorTicks = Executors.newSingleThreadScheduledExecutor(daemon("capstan-governor"));
    if (governor != null) {
      b.metrics.gauge("capstan_overloaded", "1 while the event loops run late (the governor limits the heaviest tenants)",
          () -> governor.overloaded() ? 1 : 0);
      b.governorTicks.scheduleAtFixedRate(() -> governor.tick(System.nanoTime()), 2, 2, TimeUnit.MILLISECONDS);
    }
    TenantLimits limits = new TenantLimits(new TenantLimits.Settings(config.quota().tenantMaxConnections(),
        config.quota().tenantConnectionsPerSecond(), config.quota().tenantConnectionBurst()), System::nanoTime);
    Outbound outbound = new Outbound(config, b.mesh, b.identities, b.pool, workloadClient, b.quota, limits, b.metrics, accessLog, b.drain);
    Inbound inbound = new Inbound(config, b.mesh, workloadClient, b.quota, limits, b.metrics, accessLog, b.drain);
    HboneServer.TlsSelector serverTls = local -> serverTls(config, b.mesh.current(), b.identities, local);

    b.listeners = new Listeners(config, b.transport, b.workers, b.drain);
    boolean perIpHbone = config.capture().isEmpty();
    if (perIpHbone) {
      List<String> failed = b.listeners.reconcileHbone(b.mesh.current(), config.hbone(), serverTls, inbound);
      if (!failed.isEmpty()) {
        throw new IllegalStateException("cannot listen for HBONE: " + String.join("; ", failed));
      }
    }
    // Capture listeners are bound only once the agent can serve every local pod (mesh and
    // certificates in; see bindCaptureWhenServing): during a restart the kernel spreads new
    // connections over every listener sharing the port, so a new agent must not take any before
    // it can carry them.
    Runnable bindCapture = config.capture().isEmpty() ? null : () -> {
      try {
        b.listeners.bindCapture(config.capture().get(), outbound, inbound, config.hbone(), serverTls);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while binding the capture listeners", e);
      }
    };
    b.listeners.bindExplicit(outbound);
    // A new workload's certificate is loaded before its HBONE listener presents it.
    // Always applies the index in force (under one lock), so a change that lands while the agent
    // starts is applied by one of the two calls below, never undone by an older index.
    Object applying = new Object();
    Runnable apply = () -> {
      synchronized (applying) {
        refreshCertificates.run();
        b.quota.weights(b.mesh.current().snapshot().bufferWeights());
        if (perIpHbone) {
          b.listeners.reconcileHbone(b.mesh.current(), config.hbone(), serverTls, inbound);
        }
      }
    };
    b.mesh.onChange(index -> apply.run());
    apply.run();

    b.background = Executors.newSingleThreadScheduledExecutor(daemon("capstan-config"));
    long every = config.reloadInterval().toMillis();
    MeshView mesh = b.mesh;
    Runnable meshTick = b.meshTick;
    Identities identities = b.identities;
    NodeAgent[] self = new NodeAgent[1];
    boolean[] saidReady = new boolean[1];
    b.background.scheduleWithFixedDelay(() -> {
      try {
        refreshFromFiles(config, meshTick, mesh, identities);
        if (self[0] != null) {
          self[0].bindCaptureWhenServing();
        }
        if (!saidReady[0] && self[0] != null && self[0].ready()) {
          saidReady[0] = true;
          LOG.info("node agent for {} is ready: mesh version {} loaded, certificates for every local identity",
              config.node(), mesh.current().version());
        }
      } catch (RuntimeException e) {
        LOG.error("background refresh failed: {}", e.toString());
      }
    }, every, every, TimeUnit.MILLISECONDS);

    b.metrics.gauge("capstan_proxied_connections_active", "proxied connections open", b.drain::activeConnections);
    b.admin = AdminServers.start(b.vertx, new AdminServers.Addresses(config.admin(), config.metrics(), config.ready(), true),
        b.metrics::scrape,
        () -> self[0].configDump(), () -> self[0] != null && self[0].ready());
    NodeAgent agent = new NodeAgent(b);
    agent.bindCapture = bindCapture;
    agent.listenersBound = bindCapture == null;
    self[0] = agent;
    agent.ready = true;
    agent.bindCaptureWhenServing();
    LOG.info("node agent for {} started (ready once the mesh and its certificates are in): transport {}, TLS {}, mesh version {}, listening {}",
        config.node(), b.transport.name(), b.tls.provider(), b.mesh.current().version(), b.listeners.bound());
    return agent;
  }

  /** The buffer budget, with its node and per-tenant metrics. */
  private static TenantBudget quota(AgentConfig.QuotaConfig config, ProxyMetrics metrics) {
    TenantBudget budget = new TenantBudget(
        new TenantBudget.Settings(config.budget(), config.giveBack(), config.connectionWindow()), System::nanoTime);
    metrics.gauge("capstan_buffer_budget_bytes", "bytes the agent may hold for all tenants", () -> config.budget());
    metrics.gauge("capstan_buffer_held_bytes", "bytes held now (read, not yet written)", budget::held);
    metrics.gauge("capstan_buffer_peak_bytes", "most bytes ever held at once", budget::peak);
    metrics.gauge("capstan_netty_direct_memory_bytes", "direct memory Netty's allocator has reserved (pooled arenas)",
        io.netty.util.internal.PlatformDependent::usedDirectMemory);
    budget.onNewTenant(t -> {
      metrics.tenantGauge("capstan_tenant_buffer_bytes", "bytes held for the tenant", t.name(), t::held);
      metrics.tenantGauge("capstan_tenant_buffer_share_bytes", "the tenant's guaranteed share now", t.name(), t::share);
      metrics.tenantGauge("capstan_tenant_buffer_borrowed_bytes", "bytes held beyond the share", t.name(), t::borrowed);
      metrics.tenantGauge("capstan_tenant_connections", "open connections charged to the tenant", t.name(), t::connections);
      metrics.tenantCounter("capstan_tenant_throttled_seconds", "time the tenant's connections were not read (over quota)",
          t.name(), t, x -> x.throttledNanos() / 1e9);
      metrics.tenantCounter("capstan_tenant_throttles", "times the tenant was paused", t.name(), t, x -> x.pauses());
      metrics.tenantGauge("capstan_tenant_rate_limit_bytes_per_second",
          "read-rate limit the overload governor set for the tenant (0: none)", t.name(), t::rateLimit);
      metrics.tenantCounter("capstan_tenant_rate_limited_seconds",
          "time the tenant's connections waited for their read-rate limit (agent overloaded)", t.name(), t,
          x -> x.rateLimitedNanos() / 1e9);
      metrics.tenantCounter("capstan_tenant_read_bytes", "bytes read for the tenant", t.name(), t, x -> x.readBytes());
    });
    return budget;
  }

  /** The reload tick: the mesh file, then the certificates of the workloads it puts on this node. */
  private static void refreshFromFiles(AgentConfig config, Runnable meshTick, MeshView mesh, Identities identities) {
    meshTick.run();
    identities.refresh(localIdentities(config, mesh.current()));
  }

  private static Set<SpiffeId> localIdentities(AgentConfig config, MeshIndex index) {
    return index.workloadsOn(config.node()).stream()
        .map(w -> MeshIndex.identity(config.trustDomain(), w))
        .collect(Collectors.toSet());
  }

  private static Optional<HboneServer.ServerTls> serverTls(
      AgentConfig config, MeshIndex index, Identities identities, InetSocketAddress local) {
    return index.localWorkload(local.getAddress(), config.node())
        .map(w -> MeshIndex.identity(config.trustDomain(), w))
        .flatMap(id -> identities.get(id).map(e -> new HboneServer.ServerTls(id, e.server())));
  }

  /**
   * Ready to carry traffic: started, the mesh fully loaded, a certificate for every identity of
   * this node's workloads, and not draining.
   */
  public boolean ready() {
    return ready && listenersBound && canServe() && !drain.draining();
  }

  /** The mesh fully loaded and a certificate held for the identity of every local workload. */
  private boolean canServe() {
    return mesh.ready() && localIdentities(config, mesh.current()).stream().allMatch(id -> identities.get(id).isPresent());
  }

  /**
   * Capture mode: binds the transparent listeners the first time the agent can serve (start-up,
   * then the background tick). A failed bind is logged and tried again on the next tick; the
   * agent stays not ready meanwhile.
   */
  synchronized void bindCaptureWhenServing() {
    if (listenersBound || drain.draining() || !canServe()) {
      return;
    }
    try {
      bindCapture.run();
      listenersBound = true;
    } catch (RuntimeException e) {
      LOG.error("cannot bind the capture listeners, retrying: {}", e.getMessage());
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** What {@code /config_dump} shows: the config version in force and what the agent holds. */
  public Map<String, Object> configDump() {
    MeshIndex index = mesh.current();
    Map<String, Object> dump = new LinkedHashMap<>();
    dump.put("node", config.node());
    dump.put("version", index.version());
    dump.put("meshReady", mesh.ready());
    dump.put("ready", ready());
    dump.put("trustDomain", config.trustDomain());
    dump.put("transport", transport.name());
    dump.put("tls", tls.provider().name());
    dump.put("listeners", listeners.bound().entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().toString())));
    dump.put("certificates", identities.all().stream()
        .map(e -> Map.of("identity", e.key().identity().uri(), "notAfter", e.key().notAfter().toString()))
        .toList());
    dump.put("pool", Map.of("connections", pool.openConnections()));
    dump.put("activeConnections", drain.activeConnections());
    dump.put("localWorkloads", index.workloadsOn(config.node()));
    dump.put("mesh", index.snapshot());
    return dump;
  }

  public AgentConfig config() {
    return config;
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  public Pool pool() {
    return pool;
  }

  /** Bound listener addresses by name. */
  public Map<String, InetSocketAddress> listening() {
    return listeners.bound();
  }

  /** Ports of admin, metrics and ready, in that order. */
  public List<Integer> adminPorts() {
    return admin.ports();
  }

  public int activeConnections() {
    return drain.activeConnections();
  }

  /** Forces an immediate re-read of the mesh file (tests; production polls). */
  public void reloadNow() {
    try {
      background.submit(() -> refreshFromFiles(config, meshTick, mesh, identities)).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("reload failed", e);
    }
  }

  /** Graceful drain: stop accepting, let connections finish until the configured deadline. */
  public CompletableFuture<Void> drain() {
    return drain(config.drainTimeout());
  }

  public CompletableFuture<Void> drain(Duration deadline) {
    return drain.drain(deadline);
  }

  @Override
  public void close() {
    ready = false;
    drain.drain(Duration.ZERO).join();
    pool.closeAll();
    background.shutdownNow();
    if (manager != null) {
      manager.close();
    }
    certificates.shutdownNow();
    if (caClient != null) {
      caClient.close();
    }
    mesh.close();
    admin.close();
    vertx.close();
    loopDelay.close();
    governorTicks.shutdownNow();
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Builder {
    AgentConfig config;
    ProxyMetrics metrics;
    MeshView mesh;
    Runnable meshTick;
    Identities identities;
    Pool pool;
    Listeners listeners;
    Drain drain;
    EventLoopGroup workers;
    ScheduledExecutorService background;
    Vertx vertx;
    ScheduledExecutorService certificates;
    CaClient caClient;
    CertificateManager manager;
    AdminServers admin;
    Transport transport;
    MeshTls tls;
    TenantBudget quota;
    EventLoopDelay loopDelay;
    ScheduledExecutorService governorTicks;
  }
}

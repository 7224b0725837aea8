package dev.capstan.nodeagent.config;

import dev.capstan.core.mesh.MeshFile;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.TlsEngine;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Everything the node agent is told at start-up.
 *
 * @param node name of the node this agent serves; only workloads of this node may send through it
 * @param trustDomain SPIFFE trust domain of the mesh
 * @param mesh where the mesh view comes from: a file, or the controller through Hazelcast
 * @param certs where workload certificates come from: a directory, or the controller's CA
 * @param hbonePort the HBONE port on every workload IP
 * @param admin admin listener (config dump), loopback only
 * @param metrics Prometheus listener
 * @param ready readiness listener
 * @param explicitProxy HTTP CONNECT proxy listener, if enabled
 * @param upstreams fixed upstream listeners
 * @param pool HBONE connection pool settings
 * @param hbone HTTP/2 tuning of HBONE
 * @param tlsEngine which TLS implementation to use
 * @param workerThreads data-plane event loops
 * @param connectTimeout deadline to connect to a workload or an HBONE peer
 * @param drainTimeout how long connections may finish after SIGTERM
 * @param reloadInterval how often files are checked for changes
 * @param accessLog access log format
 * @param capture transparent capture (nftables TPROXY from ztunnel-redirect), if enabled
 * @param quota the node's buffer budget shared by tenants (namespaces)
 */
public record AgentConfig(
    String node,
    String trustDomain,
    MeshSource mesh,
    CertSource certs,
    int hbonePort,
    InetSocketAddress admin,
    InetSocketAddress metrics,
    InetSocketAddress ready,
    Optional<InetSocketAddress> explicitProxy,
    List<Upstream> upstreams,
    PoolConfig pool,
    HboneSettings hbone,
    TlsEngine tlsEngine,
    int workerThreads,
    Duration connectTimeout,
    Duration drainTimeout,
    Duration reloadInterval,
    AccessLogFormat accessLog,
    Optional<Capture> capture,
    QuotaConfig quota) {

  /** Where the agent reads the mesh: exactly one of a file ({@code mesh}) or the controller. */
  public sealed interface MeshSource permits MeshFile, Controller {}

  /** The mesh from a YAML file, re-read when it changes (tests, hand-run meshes). */
  public record MeshFile(Path path) implements MeshSource {}

  /**
   * The mesh from the controller, as a Hazelcast client.
   *
   * @param clusterName the controller's Hazelcast cluster name
   * @param members controller member addresses ({@code host:port})
   */
  public record Controller(String clusterName, List<String> members) implements MeshSource {
    public Controller {
      members = List.copyOf(members);
    }
  }

  /** Where workload certificates come from: exactly one of a directory ({@code certs}) or the CA. */
  public sealed interface CertSource permits CertFiles, CertAuthority {
    /** The file holding the mesh's root certificate(s). */
    Path root();
  }

  /** {@code root-cert.pem} and {@code <ns>/<sa>/cert-chain.pem, key.pem} in a directory, re-read on change. */
  public record CertFiles(Path dir) implements CertSource {
    @Override
    public Path root() {
      return dir.resolve("root-cert.pem");
    }
  }

  /**
   * The controller's CA: keys made here, certificates requested for local workloads' identities.
   *
   * @param host CA host
   * @param port CA port (15012)
   * @param root the mesh root that signed the CA's serving certificate and every leaf
   * @param token the file with this node's credential (bootstrap token or service-account token), re-read per request
   * @param identity the SPIFFE ID the CA's serving certificate must carry
   */
  public record CertAuthority(String host, int port, Path root, Path token, SpiffeId identity) implements CertSource {}

  /**
   * Transparent capture: ztunnel-redirect's nftables rules TPROXY pods' TCP to these listeners,
   * which are bound with {@code IP_TRANSPARENT} (an accepted socket's local address is the
   * original destination). Replaces the per-pod-IP HBONE listeners.
   *
   * @param outbound outbound listener (15001): connections from this node's pods
   * @param inbound plaintext inbound listener (15006): connections to this node's pods from outside the mesh
   * @param hbone HBONE inbound listener (15008): tunnels to this node's pods
   * @param mark {@code SO_MARK} of every socket the agent opens, so the redirect never captures them
   */
  public record Capture(InetSocketAddress outbound, InetSocketAddress inbound, InetSocketAddress hbone, int mark) {
    public Capture {
      if (mark == 0) {
        throw new IllegalArgumentException("mark must not be 0");
      }
    }
  }

  /**
   * The buffer budget (docs/flow-control.md).
   *
   * @param budget bytes the agent may hold for all connections together
   * @param giveBack room kept free for tenants within their share (borrowers stop before it)
   * @param connectionWindow bytes one connection may hold
   * @param tenantMaxConnections connections one tenant may have open through this agent
   * @param tenantConnectionsPerSecond sustained rate of new connections per tenant
   * @param tenantConnectionBurst new connections a tenant may open at once above that rate
   * @param loopDelayTarget event-loop lateness that counts as late; a loop late in 30% of its samples makes the agent overloaded and the
   *     heaviest tenants' reads are rate-limited ({@code LoadGovernor}); zero turns that off
   */
  public record QuotaConfig(
      long budget, long giveBack, long connectionWindow,
      int tenantMaxConnections, int tenantConnectionsPerSecond, int tenantConnectionBurst, Duration loopDelayTarget) {
    /** The same without the overload governor's target (the default one). */
    public QuotaConfig(long budget, long giveBack, long connectionWindow,
        int tenantMaxConnections, int tenantConnectionsPerSecond, int tenantConnectionBurst) {
      this(budget, giveBack, connectionWindow, tenantMaxConnections, tenantConnectionsPerSecond, tenantConnectionBurst,
          DEFAULT_LOOP_DELAY_TARGET);
    }

    /** Mean event-loop lateness that counts as overload by default. */
    public static final Duration DEFAULT_LOOP_DELAY_TARGET = Duration.ofMillis(2);

    /**
     * A quarter of the memory Netty may use for buffers (the JVM's direct memory limit, which
     * follows the heap limit and so the container's memory limit), between 16 MiB and 1 GiB; a
     * quarter of that as give-back room; 256 KiB per connection; per tenant 10,000 open connections
     * and 10,000 new ones per second (bursts of 10,000): a runaway is stopped, a busy namespace is
     * not (1,000/s refused the capture benchmark's own `Connection: close` load); overloaded at
     * 2 ms of event-loop lateness.
     */
    public static QuotaConfig defaults() {
      long budget = Math.max(16L << 20, Math.min(1L << 30, io.netty.util.internal.PlatformDependent.maxDirectMemory() / 4));
      return new QuotaConfig(budget, budget / 4, 256 * 1024, 10_000, 10_000, 10_000);
    }
  }

  /** The overload governor's target: a duration up to 1s, 0ms to turn the governor off. */
  private static Duration loopDelayTarget(Fields q) {
    Duration d = q.duration("loopDelayTarget", QuotaConfig.DEFAULT_LOOP_DELAY_TARGET);
    if (d.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new ConfigException(q.at("loopDelayTarget") + " must be at most 1s (0ms turns it off), got " + d.toMillis() + "ms");
    }
    return d;
  }

  /** Access log line format. */
  public enum AccessLogFormat {
    OFF,
    TEXT,
    JSON
  }

  /**
   * A fixed upstream listener: connections to {@code listen} go to {@code service}'s {@code port}.
   *
   * @param listen local address to listen on
   * @param service {@code namespace/name} of the mesh service
   * @param port the service port
   */
  public record Upstream(InetSocketAddress listen, String service, int port) {}

  /**
   * HBONE pool settings.
   *
   * @param maxStreamsPerConnection streams carried by one HBONE connection before another opens
   * @param idleTimeout an HBONE connection without streams closes after this long
   */
  public record PoolConfig(int maxStreamsPerConnection, Duration idleTimeout) {}

  public AgentConfig {
    upstreams = List.copyOf(upstreams);
  }

  /** Parses the agent's YAML configuration; relative paths are resolved against {@code baseDir}. */
  public static AgentConfig parse(String yaml, String source, Path baseDir) {
    Fields f = Fields.parse(yaml, source).only(
        "node", "trustDomain", "mesh", "controller", "certs", "ca", "hbonePort", "admin", "metrics", "ready", "explicitProxy",
        "upstreams", "pool", "hbone", "tlsEngine", "workerThreads", "connectTimeout", "drainTimeout",
        "reloadInterval", "accessLog", "capture", "quota");
    List<Upstream> upstreams = f.list("upstreams", (u, i) -> {
      u.only("listen", "service", "port");
      String service = u.string("service");
      if (!service.matches("[a-z0-9][a-z0-9.\\-]*/[a-z0-9][a-z0-9.\\-]*")) {
        throw new ConfigException(u.path() + ".service must be <namespace>/<name>, got '" + service + "'");
      }
      return new Upstream(
          u.address("listen", Optional.empty()).orElseThrow(() -> new ConfigException(u.path() + ".listen is required")),
          service,
          u.integer("port", 0, 1, 65535));
    });
    for (int i = 0; i < upstreams.size(); i++) {
      if (upstreams.get(i).port() == 0) {
        throw new ConfigException(source + ": upstreams[" + i + "].port is required");
      }
    }
    PoolConfig pool = f.optionalObject("pool").map(p -> {
      p.only("maxStreamsPerConnection", "idleTimeout");
      return new PoolConfig(p.integer("maxStreamsPerConnection", 100, 1, 100_000), p.duration("idleTimeout", Duration.ofMinutes(1)));
    }).orElse(new PoolConfig(100, Duration.ofMinutes(1)));
    HboneSettings defaults = HboneSettings.defaults();
    HboneSettings hbone = f.optionalObject("hbone").map(h -> {
      h.only("streamWindow", "connectionWindow", "maxFrameSize", "maxConcurrentStreams", "handshakeTimeout");
      try {
        return new HboneSettings(
            h.integer("streamWindow", defaults.streamWindow(), 65_535, Integer.MAX_VALUE),
            h.integer("connectionWindow", defaults.connectionWindow(), 65_535, Integer.MAX_VALUE),
            h.integer("maxFrameSize", defaults.maxFrameSize(), 16_384, 16_777_215),
            h.integer("maxConcurrentStreams", defaults.maxConcurrentStreams(), 1, 1_000_000),
            h.duration("handshakeTimeout", defaults.handshakeTimeout()));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(h.path() + ": " + e.getMessage());
      }
    }).orElse(defaults);
    String engine = f.string("tlsEngine", "auto");
    TlsEngine tlsEngine;
    try {
      tlsEngine = TlsEngine.valueOf(engine.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": tlsEngine must be auto, openssl or jdk, got '" + engine + "'");
    }
    String log = f.string("accessLog", "text");
    AccessLogFormat format;
    try {
      format = "false".equals(log) ? AccessLogFormat.OFF : AccessLogFormat.valueOf(log.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": accessLog must be off, text or json, got '" + log + "'");
    }
    String trustDomain = f.string("trustDomain", "cluster.local");
    try {
      SpiffeId.of(trustDomain, "ns", "sa");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": trustDomain: " + e.getMessage());
    }
    InetSocketAddress admin = f.address("admin", Optional.of(new InetSocketAddress("127.0.0.1", 15000)))
        .orElseThrow(() -> new ConfigException(source + ": admin cannot be disabled"));
    if (!admin.getAddress().isLoopbackAddress()) {
      throw new ConfigException(source + ": admin must listen on a loopback address, got '" + f.string("admin") + "'");
    }
    MeshSource mesh;
    if (f.has("mesh") && f.has("controller")) {
      throw new ConfigException(source + ": mesh (a file) and controller (Hazelcast members) exclude each other: keep one");
    } else if (!f.has("mesh") && !f.has("controller")) {
      throw new ConfigException(source + ": mesh is required (a file), or controller (Hazelcast members) instead");
    } else if (f.has("mesh")) {
      mesh = new MeshFile(baseDir.resolve(f.string("mesh")));
    } else {
      Fields c = f.object("controller").only("clusterName", "members");
      List<String> members = c.strings("members");
      if (members.isEmpty()) {
        throw new ConfigException(c.path() + ".members must list at least one controller address (host:port)");
      }
      mesh = new Controller(c.string("clusterName", "capstan"), members);
    }
    CertSource certs;
    if (f.has("certs") && f.has("ca")) {
      throw new ConfigException(source + ": certs (a directory) and ca (the controller's CA) exclude each other: keep one");
    } else if (f.has("ca")) {
      Fields c = f.object("ca").only("address", "root", "token", "identity");
      if (!c.has("address")) {
        throw new ConfigException(c.path() + ".address is required (host:port of the CA)");
      }
      String hostPort = c.string("address");
      int colon = hostPort.lastIndexOf(':');
      int port;
      try {
        port = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1)) : -1;
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new ConfigException(c.path() + ".address must be <host>:<port>, got '" + hostPort + "'");
      }
      String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
      SpiffeId identity;
      String named = c.string("identity", "spiffe://" + trustDomain + "/ns/capstan-system/sa/capstan-controller");
      try {
        identity = SpiffeId.parse(named);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(c.path() + ".identity: " + e.getMessage());
      }
      certs = new CertAuthority(host, port, baseDir.resolve(c.string("root")),
          baseDir.resolve(c.string("token")), identity);
    } else {
      certs = new CertFiles(baseDir.resolve(f.string("certs")));
    }
    Optional<Capture> capture = f.optionalObject("capture").map(c -> {
      c.only("outbound", "inbound", "hbone", "mark");
      String mark = c.string("mark", "0x200000");
      int value;
      try {
        value = mark.startsWith("0x") ? Integer.parseUnsignedInt(mark.substring(2), 16) : Integer.parseUnsignedInt(mark);
      } catch (NumberFormatException e) {
        value = 0;
      }
      if (value == 0) {
        throw new ConfigException(c.path() + ".mark must be a non-zero integer (decimal or 0x hex), got '" + mark + "'");
      }
      return new Capture(
          c.address("outbound", Optional.of(new InetSocketAddress("127.0.0.1", 15001))).orElseThrow(),
          c.address("inbound", Optional.of(new InetSocketAddress("127.0.0.1", 15006))).orElseThrow(),
          c.address("hbone", Optional.of(new InetSocketAddress("127.0.0.1", Hbone.PORT))).orElseThrow(),
          value);
    });
    QuotaConfig quotaDefaults = QuotaConfig.defaults();
    QuotaConfig quota = f.optionalObject("quota").map(q -> {
      q.only("budget", "giveBack", "connectionWindow", "tenantMaxConnections", "tenantConnectionsPerSecond", "tenantConnectionBurst",
          "loopDelayTarget");
      long budget = q.bytes("budget", quotaDefaults.budget(), 64 * 1024, 1L << 40);
      long giveBack = q.bytes("giveBack", budget / 4, 0, budget - 1);
      long window = q.bytes("connectionWindow", Math.min(256 * 1024, budget), 1024, budget);
      int rate = q.integer("tenantConnectionsPerSecond", quotaDefaults.tenantConnectionsPerSecond(), 1, 1_000_000);
      return new QuotaConfig(budget, giveBack, window,
          q.integer("tenantMaxConnections", quotaDefaults.tenantMaxConnections(), 1, 10_000_000),
          rate,
          q.integer("tenantConnectionBurst", rate, 1, 1_000_000),
          loopDelayTarget(q));
    }).orElse(quotaDefaults);
    return new AgentConfig(
        f.string("node"),
        trustDomain,
        mesh,
        certs,
        f.integer("hbonePort", Hbone.PORT, 1, 65535),
        admin,
        f.address("metrics", Optional.of(new InetSocketAddress("0.0.0.0", 15020)))
            .orElseThrow(() -> new ConfigException(source + ": metrics cannot be disabled")),
        f.address("ready", Optional.of(new InetSocketAddress("0.0.0.0", 15021)))
            .orElseThrow(() -> new ConfigException(source + ": ready cannot be disabled")),
        f.address("explicitProxy", Optional.of(new InetSocketAddress("127.0.0.1", 15080))),
        upstreams,
        pool,
        hbone,
        tlsEngine,
        f.integer("workerThreads", Runtime.getRuntime().availableProcessors(), 1, 256),
        f.duration("connectTimeout", Duration.ofSeconds(5)),
        f.duration("drainTimeout", Duration.ofSeconds(30)),
        f.duration("reloadInterval", Duration.ofSeconds(1)),
        format,
        capture,
        quota);
  }
}

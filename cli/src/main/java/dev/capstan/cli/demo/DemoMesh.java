package dev.capstan.cli.demo;

import dev.capstan.cli.remote.Prometheus;
import dev.capstan.controller.Controller;
import dev.capstan.controller.ControllerConfig;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.FreePorts;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import dev.capstan.nodeagent.NodeAgent;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.waypoint.Waypoint;
import dev.capstan.waypoint.config.WaypointConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's mesh, all in this JVM on loopback addresses, wired by hand in {@link #start}: the
 * controller (embedded Hazelcast member, manifests, CA with bootstrap tokens), the node agents of
 * node-a and node-b (Hazelcast clients, certificates from the CA, explicit-proxy mode: no root),
 * the waypoint of namespace {@code reviews} (its view from the controller, its certificate from the
 * controller's root), and the two versions of the reviews app on their pod addresses.
 *
 * <pre>
 * frontend-1 127.0.10.1 ─CONNECT─▶ agent node-a ══HBONE══▶ waypoint 127.0.30.1 ══HBONE══▶ agent node-b ─▶ reviews-v1 127.0.20.1
 *                                   (explicit proxy)         (HTTPRoute 90/10)                           └▶ reviews-v2 127.0.20.2
 * </pre>
 */
public final class DemoMesh implements DemoSetup {

  private static final Logger LOG = LoggerFactory.getLogger(DemoMesh.class);

  /** The pods of {@code examples/demo/mesh.yaml} and {@code waypoint.yaml}. */
  public static final String FRONTEND_IP = "127.0.10.1";
  public static final String REVIEWS_V1_IP = "127.0.20.1";
  public static final String REVIEWS_V2_IP = "127.0.20.2";
  public static final String WAYPOINT_IP = "127.0.30.1";
  /** What the frontend asks its agent for: the reviews service by its mesh name. */
  public static final String REVIEWS_TARGET = "reviews.reviews:9080";
  /** The manifests inside the jar (copied there from {@code examples/demo} by the build). */
  static final List<String> MANIFESTS = List.of("mesh.yaml", "waypoint.yaml", "routes.yaml");
  private static final String MANIFEST_RESOURCES = "/dev/capstan/cli/demo/manifests/";
  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final Path dir;
  private final boolean keepDir;
  private final List<AutoCloseable> running = new ArrayList<>(); // guarded by this
  private Controller controller;
  private NodeAgent agentA;
  private NodeAgent agentB;
  private Waypoint waypoint;
  private final Map<String, ReviewsApp> apps = new LinkedHashMap<>();
  private int hbonePort;
  private int appPort;
  private int hazelcastPort;

  private DemoMesh(Path dir, boolean keepDir) {
    this.dir = dir;
    this.keepDir = keepDir;
  }

  /**
   * Starts everything and returns once the agents and the waypoint are ready (at most a minute).
   *
   * @param dir an empty run directory (configs, manifests, the CA's root, tokens, certificates)
   * @param manifests a directory with the demo's manifests, or empty for those inside the jar
   * @param keepDir whether {@link #close()} leaves {@code dir} in place
   */
  public static DemoMesh start(Path dir, java.util.Optional<Path> manifests, boolean keepDir) throws Exception {
    DemoMesh mesh = new DemoMesh(dir, keepDir);
    try {
      mesh.startAll(manifests);
      return mesh;
    } catch (Exception | Error e) {
      mesh.close();
      throw e;
    }
  }

  private void startAll(java.util.Optional<Path> manifests) throws Exception {
    Random random = new SecureRandom();
    hbonePort = FreePorts.on(random, FRONTEND_IP, REVIEWS_V1_IP, REVIEWS_V2_IP, WAYPOINT_IP, "127.0.0.1");
    appPort = FreePorts.on(random, REVIEWS_V1_IP, REVIEWS_V2_IP);
    hazelcastPort = FreePorts.on(random, "127.0.0.1");
    writeManifests(manifests);

    byte[] a = new byte[24];
    byte[] b = new byte[24];
    random.nextBytes(a);
    random.nextBytes(b);
    String tokenA = HexFormat.of().formatHex(a);
    String tokenB = HexFormat.of().formatHex(b);
    writeSecret(dir.resolve("tokens.yaml"), "# node name → bootstrap token (random per run)\nnode-a: " + tokenA + "\nnode-b: " + tokenB + "\n");
    writeSecret(dir.resolve("node-a.token"), tokenA + "\n");
    writeSecret(dir.resolve("node-b.token"), tokenB + "\n");

    // 1. The controller: manifests → mesh → Hazelcast; the CA.
    String cluster = "capstan-demo-" + UUID.randomUUID();
    String controllerYaml = """
        # capstan demo: the controller, clusterless, one replica.
        name: controller-0
        manifests: manifests
        pollInterval: 500ms
        hazelcast: {clusterName: %s, listen: "127.0.0.1:%d"}
        leader: oldest-member
        ca: {listen: "127.0.0.1:0", dir: ca, bootstrapTokens: tokens.yaml}
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        """.formatted(cluster, hazelcastPort);
    Files.writeString(dir.resolve("controller.yaml"), controllerYaml);
    controller = Controller.start(ControllerConfig.parse(controllerYaml, "controller.yaml", dir));
    running.add(controller);
    Path rootCert = dir.resolve("ca").resolve("root-cert.pem");
    await(() -> Files.isRegularFile(rootCert), "the controller's CA root " + rootCert);

    // 2. The apps, on their pod addresses.
    apps.put("reviews-v1", ReviewsApp.start("v1", "reviews-v1-1", REVIEWS_V1_IP, appPort));
    running.add(apps.get("reviews-v1"));
    apps.put("reviews-v2", ReviewsApp.start("v2", "reviews-v2-1", REVIEWS_V2_IP, appPort));
    running.add(apps.get("reviews-v2"));

    // 3. The node agents (mesh from Hazelcast, certificates from the CA with bootstrap tokens) and
    //    the waypoint (its view from the controller; its certificate issued from the mesh root: the
    //    waypoint has no CSR client yet, docs/waypoint-control.md), started side by side.
    Path certs = dir.resolve("waypoint").resolve("certs");
    issueWaypointCertificate(dir.resolve("ca"), certs, SpiffeId.of("cluster.local", "reviews", "waypoint"));
    String waypointYaml = """
        # capstan demo: the waypoint of namespace reviews, on its pod's address.
        namespace: reviews
        serviceAccount: waypoint
        listen: "%s:%d"
        hbonePort: %d
        certs: certs
        controller: {clusterName: %s, members: ["127.0.0.1:%d"]}
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        requestTimeout: 10s
        """.formatted(WAYPOINT_IP, hbonePort, hbonePort, cluster, hazelcastPort);
    Files.writeString(dir.resolve("waypoint").resolve("waypoint.yaml"), waypointYaml);
    AgentConfig configA = agentConfig("node-a", cluster, "explicitProxy: 127.0.0.1:0");
    AgentConfig configB = agentConfig("node-b", cluster, "explicitProxy: null");
    WaypointConfig configW = WaypointConfig.parse(waypointYaml, "waypoint.yaml", dir.resolve("waypoint"));
    ExecutorService starter = Executors.newFixedThreadPool(3, r -> new Thread(r, "capstan-demo-start"));
    try {
      Future<NodeAgent> startA = starter.submit(() -> started(NodeAgent.start(configA)));
      Future<NodeAgent> startB = starter.submit(() -> started(NodeAgent.start(configB)));
      Future<Waypoint> startW = starter.submit(() -> started(Waypoint.start(configW)));
      agentA = get(startA, "the node agent of node-a");
      agentB = get(startB, "the node agent of node-b");
      waypoint = get(startW, "the waypoint");
    } finally {
      starter.shutdown();
    }

    await(() -> agentA.ready() && agentB.ready() && waypoint.ready(),
        "the node agents and the waypoint to be ready (mesh loaded, certificates in)");
  }

  private synchronized <T extends AutoCloseable> T started(T part) {
    running.add(part);
    return part;
  }

  private static <T> T get(Future<T> future, String what) throws Exception {
    try {
      return future.get(STARTUP.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw new IllegalStateException(what + " did not start: " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + " did not start within " + STARTUP.toSeconds() + " s", e);
    }
  }

  private String agentConfigYaml(String node, String cluster, String extra) {
    return """
        # capstan demo: the node agent of %s (explicit-proxy mode: no capture, no root).
        node: %s
        controller: {clusterName: %s, members: ["127.0.0.1:%d"]}
        ca: {address: "127.0.0.1:%d", root: ca/root-cert.pem, token: %s.token}
        hbonePort: %d
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        %s
        workerThreads: 1
        drainTimeout: 1s
        """.formatted(node, node, cluster, hazelcastPort, controller.caPort(), node, hbonePort, extra);
  }

  private AgentConfig agentConfig(String node, String cluster, String extra) throws IOException {
    String yaml = agentConfigYaml(node, cluster, extra);
    Files.writeString(dir.resolve(node + ".yaml"), yaml);
    return AgentConfig.parse(yaml, node + ".yaml", dir);
  }

  /** Copies the manifests into the run directory with this run's ports filled in. */
  private void writeManifests(java.util.Optional<Path> from) throws IOException {
    Path to = Files.createDirectories(dir.resolve("manifests"));
    for (String name : MANIFESTS) {
      String text;
      if (from.isPresent()) {
        Path file = from.get().resolve(name);
        if (!Files.isRegularFile(file)) {
          throw new IllegalArgumentException("--manifests " + from.get() + ": " + name + " is missing (the demo needs "
              + String.join(", ", MANIFESTS) + ")");
        }
        text = Files.readString(file);
      } else {
        try (InputStream in = DemoMesh.class.getResourceAsStream(MANIFEST_RESOURCES + name)) {
          if (in == null) {
            throw new IllegalStateException("the demo's manifest " + name + " is not in the jar (rebuild: ./mvnw -B package -DskipTests)");
          }
          text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
      text = text.replace("${hbonePort}", Integer.toString(hbonePort)).replace("${appPort}", Integer.toString(appPort));
      Files.writeString(to.resolve(name), text);
    }
  }

  private static void issueWaypointCertificate(Path caDir, Path certs, SpiffeId id) throws Exception {
    Issuer root = new Issuer(Pem.privateKey(Files.readString(caDir.resolve("root-key.pem"))),
        Pem.certificates(Files.readString(caDir.resolve("root-cert.pem"))).get(0));
    CertifiedKey leaf = root.issue(id, Instant.now(), Duration.ofHours(24));
    Path identityDir = Files.createDirectories(certs.resolve(id.namespace()).resolve(id.serviceAccount()));
    Files.copy(caDir.resolve("root-cert.pem"), certs.resolve("root-cert.pem"));
    writeSecret(identityDir.resolve("key.pem"), Pem.encodeKey(leaf.key()));
    Files.writeString(identityDir.resolve("cert-chain.pem"), Pem.encode(leaf.chain()));
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up after " + STARTUP.toSeconds() + " s waiting for " + what
            + " (the log file in the run directory says why)");
      }
      Thread.sleep(50);
    }
  }

  private static void writeSecret(Path file, String text) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, text);
  }

  public Path dir() {
    return dir;
  }

  public Controller controller() {
    return controller;
  }

  public NodeAgent agentA() {
    return agentA;
  }

  public NodeAgent agentB() {
    return agentB;
  }

  public Waypoint waypoint() {
    return waypoint;
  }

  public Map<String, ReviewsApp> apps() {
    return apps;
  }

  public int hbonePort() {
    return hbonePort;
  }

  public int hazelcastPort() {
    return hazelcastPort;
  }

  /** Agent A's explicit proxy, where the frontend sends CONNECT. */
  public InetSocketAddress explicitProxy() {
    return agentA.listening().get("explicit-proxy");
  }

  // ---------------------------------------------------------------- what the demo command drives

  @Override
  public void describe(PrintWriter out) {
    List<Integer> c = controller.adminPorts();
    out.printf("  %-22s hazelcast 127.0.0.1:%d  CA 127.0.0.1:%d%n", "controller", hazelcastPort, controller.caPort());
    out.printf("  %-22s explicit proxy %s  HBONE %s:%d%n", "agent node-a", hostPort(explicitProxy()), FRONTEND_IP, hbonePort);
    out.printf("  %-22s HBONE %s,%s:%d%n", "agent node-b", REVIEWS_V1_IP, REVIEWS_V2_IP, hbonePort);
    out.printf("  %-22s HBONE %s%n", "waypoint reviews", hostPort(waypoint.address()));
    apps.forEach((name, app) -> out.printf("  %-22s http://%s%n", name, hostPort(app.address())));
    out.printf("  %-22s %-38s %-38s %s%n", "", "metrics", "admin", "ready");
    doors(out, "controller", c);
    doors(out, "agent node-a", agentA.adminPorts());
    doors(out, "agent node-b", agentB.adminPorts());
    doors(out, "waypoint reviews", waypoint.adminPorts());
  }

  private static void doors(PrintWriter out, String who, List<Integer> ports) {
    out.printf("  %-22s %-38s %-38s %s%n", who, "http://127.0.0.1:" + ports.get(1) + "/metrics",
        "http://127.0.0.1:" + ports.get(0) + "/config_dump", "http://127.0.0.1:" + ports.get(2) + "/healthz/ready");
  }

  static String hostPort(InetSocketAddress a) {
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  @Override
  public String path() {
    return "frontend-1 (" + FRONTEND_IP + ") → agent node-a → waypoint → agent node-b → reviews v1/v2";
  }

  @Override
  public Traffic traffic() {
    return new Frontend(FRONTEND_IP, explicitProxy(), REVIEWS_TARGET);
  }

  @Override
  public Summary summarize(Frontend.Result r) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<Prometheus.Sample> a = Prometheus.parse(metrics(http, agentA.adminPorts().get(1)));
    List<Prometheus.Sample> b = Prometheus.parse(metrics(http, agentB.adminPorts().get(1)));
    List<Prometheus.Sample> w = Prometheus.parse(metrics(http, waypoint.adminPorts().get(1)));
    return Summary.of(r, Summary.identities(b, w, "node-b"), Summary.bytesPerTenant(List.of(a, b)));
  }

  private static String metrics(HttpClient http, int port) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET http://127.0.0.1:" + port + "/metrics answered " + response.statusCode());
    }
    return response.body();
  }

  @Override
  public String tryIt() {
    return String.format("the mesh stays up: curl the endpoints above, or send a request as the frontend pod:%n"
        + "  curl --interface %s -x http://%s -p http://%s/%n", FRONTEND_IP, hostPort(explicitProxy()), REVIEWS_TARGET);
  }

  /** Stops everything in reverse order of start and deletes the run directory (unless kept). */
  @Override
  public synchronized void close() {
    for (int i = running.size() - 1; i >= 0; i--) {
      try {
        running.get(i).close();
      } catch (Exception e) {
        LOG.warn("stopping {}: {}", running.get(i).getClass().getSimpleName(), e.toString());
      }
    }
    running.clear();
    if (!keepDir) {
      deleteTree(dir);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("deleting " + dir, e);
    }
  }
}

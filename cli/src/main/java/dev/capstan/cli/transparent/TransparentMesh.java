package dev.capstan.cli.transparent;

import dev.capstan.cli.demo.DemoSetup;
import dev.capstan.cli.demo.Frontend;
import dev.capstan.cli.remote.Prometheus;
import dev.capstan.cli.demo.Summary;
import dev.capstan.cli.demo.Traffic;
import dev.capstan.netlab.NetnsProcess;
import dev.capstan.netlab.Node;
import dev.capstan.netlab.Pod;
import dev.capstan.netlab.PodSpec;
import dev.capstan.netlab.TwoNodeNetwork;
import dev.capstan.netlab.mesh.CapstanMesh;
import dev.capstan.netlab.mesh.CapstanMesh.AgentMode;
import dev.capstan.netlab.mesh.CapstanMesh.WaypointView;
import dev.capstan.netlab.mesh.Launcher;
import dev.capstan.netlab.mesh.MeshService;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's mesh on a real Linux network ({@code capstan demo --transparent}, root): two nodes and
 * four pods as network namespaces ({@link TwoNodeNetwork}), Capstan's programs as processes in
 * them ({@link CapstanMesh}, launched from this JVM's class path), the apps as processes in their
 * pods ({@link PodMain}), and nothing told to use a proxy: the frontend connects to the reviews
 * service's address, and node1's {@code capstan-redirect} rules (nftables TPROXY) hand the
 * connection to agent node1.
 *
 * <pre>
 * node1 (netns &lt;run&gt;-node1, 10.0.0.1)                               node2 (netns &lt;run&gt;-node2, 10.0.0.2)
 *   controller · capstan-redirect · agent (capture)                   capstan-redirect · agent (capture)
 *   frontend-1 10.1.1.10 ─TCP 10.96.0.20:9080─▶ [TPROXY] agent node1
 *     ══HBONE══▶ waypoint-1 10.1.1.11 (HTTPRoute 90/10) ══HBONE══▶ [TPROXY] agent node2 ─▶ reviews-v1-1 10.1.2.10:9080
 *                                                                                          └▶ reviews-v2-1 10.1.2.11:9080
 * </pre>
 *
 * <p>Start-up runs everything side by side: the mesh root is made first ({@link
 * CapstanMesh#createRoot()}) and the waypoint's leaf issued from it, so the agents, the redirects
 * and the waypoint start with the controller, not after it. Everything it made (namespaces with
 * their veths and nftables tables, and every process) goes in {@link #close()}, also on Ctrl-C
 * (the network's shutdown hook); a run killed outright is cleaned up by the next one (stale
 * namespaces named {@code csdemo<pid>…} whose process is gone).
 */
public final class TransparentMesh implements DemoSetup {

  private static final Logger LOG = LoggerFactory.getLogger(TransparentMesh.class);

  /** The start of every namespace the demo makes: {@code csdemo<pid><letter>-<node or pod>}. */
  public static final String PREFIX = "csdemo";
  /** The one manifest read from {@code --manifests}: the pods and services are the demo's own. */
  public static final String ROUTES = "routes.yaml";
  static final String REVIEWS_VIP = "10.96.0.20";
  static final int REVIEWS_PORT = 9080;
  static final String FRONTEND = "frontend-1";
  static final String WAYPOINT = "waypoint-1";
  static final String REVIEWS_V1 = "reviews-v1-1";
  static final String REVIEWS_V2 = "reviews-v2-1";
  /** The node the waypoint pod's manifest names: no redirect runs for it, so nothing captures the waypoint (docs/e2e.md). */
  static final String WAYPOINT_NODE = "node-w";
  /** The commands the network and the mesh run, and the Debian package of each. */
  static final Map<String, String> TOOLS = Map.of("ip", "iproute2", "nft", "nftables", "curl", "curl");
  private static final String ROUTES_RESOURCE = "/dev/capstan/cli/demo/manifests/" + ROUTES;
  /**
   * Beyond {@link TwoNodeNetwork#JVM_OPTIONS}: INFO logs to standard output (the process's log
   * file), and C1 only — it halves the CPU the nine JVMs burn to start (about 30 s of CPU instead of
   * 58 s, measured), which on two cores is the start-up time; the demo's 200 requests a second do
   * not need C2.
   */
  private static final List<String> PROCESS_OPTIONS = List.of(
      "-Dlogback.configurationFile=dev/capstan/cli/transparent/logback-pod.xml", "-XX:TieredStopAtLevel=1");
  private static final Duration STARTUP = CapstanMesh.STARTUP;

  private final Path dir;
  private final TwoNodeNetwork net;
  private final Map<String, Double> readyAfter = new LinkedHashMap<>();
  private CapstanMesh mesh;
  private NetnsProcess frontendProcess;

  private TransparentMesh(Path dir, TwoNodeNetwork net) {
    this.dir = dir;
    this.net = net;
  }

  /**
   * Builds the network, starts every part and returns once the agents and the waypoint are ready,
   * the capture rules are in place and the apps listen (each at most 90 s).
   *
   * @param dir an empty run directory: configs, manifests, the CA, every process's log
   * @param manifests a directory whose {@code routes.yaml} replaces the demo's, or empty
   * @param started told of the mesh as soon as it exists, so that Ctrl-C during the start stops it
   * @param out the terminal (notices of stale namespaces removed)
   */
  public static TransparentMesh start(Path dir, Optional<Path> manifests, Consumer<DemoSetup> started, PrintWriter out)
      throws Exception {
    checkTools();
    String routes = routes(manifests);
    TwoNodeNetwork net = TwoNodeNetwork.create(new TwoNodeNetwork.Settings(PREFIX, 'd', classpath(), notice -> {
      out.println("capstan demo: " + notice);
      out.flush();
    }))
        .pod(PodSpec.of("shop", FRONTEND, 1))
        .pod(PodSpec.of("reviews", WAYPOINT, 1))
        .pod(reviews(REVIEWS_V1, "v1"))
        .pod(reviews(REVIEWS_V2, "v2"));
    TransparentMesh demo = new TransparentMesh(dir, net);
    started.accept(demo);
    try {
      demo.startAll(routes);
      return demo;
    } catch (Exception | Error e) {
      demo.close();
      throw e;
    }
  }

  private static PodSpec reviews(String name, String version) {
    return PodSpec.of("reviews", name, 2).label("app", "reviews").label("version", version).serviceAccount("reviews");
  }

  private void startAll(String routes) throws Exception {
    long began = System.nanoTime();
    net.start(dir);
    lap("network", began);
    List<MeshService.Port> http = List.of(new MeshService.Port("http", REVIEWS_PORT, REVIEWS_PORT));
    mesh = CapstanMesh.on(net, Launcher.classpath(classpath(), PROCESS_OPTIONS))
        .enroll("shop")
        .enroll("reviews")
        .service(new MeshService("reviews", "reviews", REVIEWS_VIP, Map.of("app", "reviews"), http).useWaypoint("waypoint"))
        .service(new MeshService("reviews", "reviews-v1", "10.96.0.21", Map.of("app", "reviews", "version", "v1"), http))
        .service(new MeshService("reviews", "reviews-v2", "10.96.0.22", Map.of("app", "reviews", "version", "v2"), http))
        .service(new MeshService("reviews", "waypoint", "10.96.0.30", Map.of("app", "waypoint"),
            List.of(new MeshService.Port("hbone", 15008, 15008))))
        .scheduleAs(WAYPOINT, WAYPOINT_NODE);
    mesh.apply("routes", routes);
    mesh.createRoot();

    // Everything side by side, the controller first (every other part waits for it).
    mesh.launchController();
    for (Node n : net.nodes()) {
      mesh.startAgent(n, AgentMode.CAPTURE);
    }
    mesh.startWaypoint(net.pod(WAYPOINT), WaypointView.CONTROLLER);
    for (Node n : net.nodes()) {
      mesh.startRedirect(n);
    }
    List<NetnsProcess> apps = new ArrayList<>();
    for (String name : List.of(REVIEWS_V1, REVIEWS_V2)) {
      Pod pod = net.pod(name);
      apps.add(pod.startTool(name, PodMain.class, "reviews", pod.spec().labels().get("version"), name, pod.ip(),
          Integer.toString(REVIEWS_PORT)));
    }
    Path commands = Files.createDirectories(dir.resolve("frontend-commands"));
    Pod frontend = net.pod(FRONTEND);
    frontendProcess = frontend.startTool(FRONTEND, PodMain.class, "frontend", REVIEWS_VIP, Integer.toString(REVIEWS_PORT),
        "reviews.reviews.svc.cluster.local:" + REVIEWS_PORT, commands.toString());

    mesh.awaitControllerReady();
    lap("controller", began);
    for (Node n : net.nodes()) {
      mesh.awaitAgentReady(n);
    }
    lap("agents", began);
    mesh.awaitWaypointReady(net.pod(WAYPOINT));
    lap("waypoint", began);
    await(() -> mesh.captureRules(net.node1()).contains(frontend.ip())
        && mesh.captureRules(net.node2()).contains(net.pod(REVIEWS_V1).ip())
        && mesh.captureRules(net.node2()).contains(net.pod(REVIEWS_V2).ip()),
        "capstan-redirect's rules to capture frontend-1 on node1 and the reviews pods on node2");
    lap("capture rules", began);
    for (NetnsProcess app : apps) {
      app.awaitLog("^listening ", STARTUP);
    }
    frontendProcess.awaitLog("^waiting for commands", STARTUP);
    lap("apps", began);
    Map<String, NetnsProcess> parts = new LinkedHashMap<>();
    parts.put("controller", mesh.controller());
    for (Node n : net.nodes()) {
      parts.put("agent " + n.name(), mesh.agent(n));
      parts.put("redirect " + n.name(), mesh.redirect(n));
    }
    parts.put("waypoint", mesh.waypoint(net.pod(WAYPOINT)));
    apps.forEach(a -> parts.put(a.name(), a));
    parts.put(FRONTEND, frontendProcess);
    LOG.info("the transparent demo is up after {}; CPU each process used so far: {}", readyAfter, parts.entrySet().stream()
        .map(e -> e.getKey() + " " + ProcessHandle.of(e.getValue().pid()).flatMap(h -> h.info().totalCpuDuration())
            .map(d -> String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0)).orElse("?"))
        .collect(Collectors.joining(", ")));
  }

  private void lap(String what, long began) {
    readyAfter.put(what, (System.nanoTime() - began) / 1e9);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up after " + STARTUP.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  /** Fails with the missing command and its package named, before anything is made. */
  static void checkTools() {
    List<String> path = Stream.of(Optional.ofNullable(System.getenv("PATH")).orElse("/usr/sbin:/usr/bin:/sbin:/bin")
        .split(File.pathSeparator)).toList();
    for (Map.Entry<String, String> tool : TOOLS.entrySet()) {
      boolean found = path.stream().anyMatch(d -> Files.isExecutable(Path.of(d, tool.getKey())));
      if (!found) {
        throw new IllegalStateException("--transparent runs `" + tool.getKey() + "`, which is not on the PATH (Debian: apt-get install "
            + tool.getValue() + ")");
      }
    }
  }

  /** The HTTPRoute: the demo's own (90/10), or {@code routes.yaml} of {@code --manifests}. */
  static String routes(Optional<Path> manifests) throws IOException {
    String text;
    if (manifests.isPresent()) {
      text = Files.readString(manifests.get().resolve(ROUTES));
    } else {
      try (InputStream in = TransparentMesh.class.getResourceAsStream(ROUTES_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("the demo's " + ROUTES + " is not in the jar (rebuild: ./mvnw -B package -DskipTests)");
        }
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
    return text.replace("${hbonePort}", "15008").replace("${appPort}", Integer.toString(REVIEWS_PORT));
  }

  /** This JVM's class path, absolute (the processes it starts run from it). */
  static String classpath() {
    return Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(s -> !s.isBlank())
        .map(s -> Path.of(s).toAbsolutePath().normalize().toString())
        .collect(Collectors.joining(File.pathSeparator));
  }

  /** The run's namespaces start with this ({@code csdemo<pid><letter>}). */
  public String runId() {
    return net.runId();
  }

  // ---------------------------------------------------------------- what the demo command drives

  @Override
  public void describe(PrintWriter out) {
    out.printf(Locale.ROOT, "  ready after %s%n", readyAfter.entrySet().stream()
        .map(e -> String.format(Locale.ROOT, "%s %.1f s", e.getKey(), e.getValue())).collect(Collectors.joining(", ")));
    Node n1 = net.node1();
    Node n2 = net.node2();
    int w = net.pods().stream().mapToInt(p -> p.netns().length()).max().orElse(20);
    String row = "  %-14s netns %-" + w + "s %-15s %s%n";
    out.printf(row, n1.name(), n1.netns(), n1.wireIp(), "controller (Hazelcast :5701, CA :15012), capstan-redirect, agent (capture)");
    out.printf(row, n2.name(), n2.netns(), n2.wireIp(), "capstan-redirect, agent (capture)");
    for (Pod p : net.pods()) {
      String where = p.name().equals(WAYPOINT) ? WAYPOINT_NODE + " (on node1's network, not captured)" : p.node().name();
      String port = p.name().startsWith("reviews") ? ":" + REVIEWS_PORT : "";
      out.printf(row, p.name(), p.netns(), p.ip() + port, p.namespace() + "/" + p.spec().serviceAccount() + ", " + where);
    }
    out.printf("  %-14s %s:%d → waypoint (capstan.dev/use-waypoint), HTTPRoute reviews%n", "reviews.reviews", REVIEWS_VIP,
        REVIEWS_PORT);
    out.printf("  metrics, config: sudo ip netns exec %s curl -s 127.0.0.1:15020/metrics   (admin :15000/config_dump)%n",
        n1.netns());
    out.printf("  capture rules:   sudo ip netns exec %s nft list table ip capstan%n", n1.netns());
  }

  @Override
  public String path() {
    return FRONTEND + " (" + net.pod(FRONTEND).ip() + ") → " + REVIEWS_VIP + ":" + REVIEWS_PORT
        + " → [TPROXY] agent node1 → waypoint → [TPROXY] agent node2 → reviews v1/v2";
  }

  @Override
  public Traffic traffic() {
    return new RemoteFrontend(frontendProcess, dir.resolve("frontend-commands"));
  }

  @Override
  public Summary summarize(Frontend.Result result) {
    List<Prometheus.Sample> a = Prometheus.parse(mesh.agentMetrics(net.node1()));
    List<Prometheus.Sample> b = Prometheus.parse(mesh.agentMetrics(net.node2()));
    List<Prometheus.Sample> w = Prometheus.parse(mesh.waypointMetrics(net.pod(WAYPOINT)));
    return Summary.of(result, Summary.identities(b, w, net.node2().name()), Summary.bytesPerTenant(List.of(a, b)));
  }

  @Override
  public String tryIt() {
    return String.format("the mesh stays up: send a request as the frontend pod (the kernel hands it to agent node1):%n"
        + "  sudo ip netns exec %s curl -s http://%s:%d/%n", net.pod(FRONTEND).netns(), REVIEWS_VIP, REVIEWS_PORT);
  }

  /** Stops every process and deletes every namespace of the run (idempotent; never throws). */
  @Override
  public void close() {
    try {
      net.close();
    } catch (RuntimeException e) {
      LOG.warn("cleaning up {}: {} (find leftovers: ip netns list | grep {})", net.runId(), e.getMessage(), PREFIX);
    }
  }
}

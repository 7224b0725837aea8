package dev.capstan.netlab.mesh;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import dev.capstan.netlab.Command;
import dev.capstan.netlab.NetnsProcess;
import dev.capstan.netlab.Node;
import dev.capstan.netlab.Pod;
import dev.capstan.netlab.TwoNodeNetwork;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Capstan on a {@link TwoNodeNetwork}, clusterless: the controller in node1's namespace (Hazelcast
 * on 10.0.0.1:5701, CA on 10.0.0.1:15012, manifests generated from the network's pods), a node
 * agent and a {@code capstan-redirect} per node namespace, waypoints as pods. Every process is
 * started through the network (by the {@link Launcher}), so the network's cleanup stops them.
 *
 * <pre>{@code
 * CapstanMesh mesh = CapstanMesh.on(net, launcher).enroll("shop").service(MeshService.of("shop", "server", "10.96.0.10", 80, 8080));
 * mesh.startController();
 * mesh.startAgents(AgentMode.STANDARD);
 * }</pre>
 *
 * <p>To start everything side by side, {@link #createRoot()} first: agents and waypoints need only
 * the root file to start, and wait for the controller themselves.
 */
public final class CapstanMesh {
  /** Hazelcast of the controller, on node1's wire address. */
  public static final String HAZELCAST = "10.0.0.1:5701";
  /** The controller's CA (gRPC), on node1's wire address. */
  public static final String CA = "10.0.0.1:15012";
  /** The controller's readiness, reachable from both nodes (19xxx: the agent on node1 keeps 150xx). */
  public static final String CONTROLLER_READY = "http://10.0.0.1:19021/healthz/ready";
  /** A node agent's readiness, from inside its node's namespace. */
  public static final String AGENT_READY = "http://127.0.0.1:15021/healthz/ready";
  /** A node agent's admin (config dump), from inside its node's namespace. */
  public static final String AGENT_ADMIN = "http://127.0.0.1:15000";
  /** How long a JVM of ours may take to become ready on two shared CPUs. */
  public static final Duration STARTUP = Duration.ofSeconds(90);

  /** How an agent receives pod traffic. */
  public enum AgentMode {
    /** HBONE on local pod IPs, explicit proxy and fixed upstreams only; no kernel redirection. */
    STANDARD,
    /** Transparent capture: listeners for nftables TPROXY (needs {@link #startRedirect} on the node). */
    CAPTURE
  }

  /** A waypoint's view of the mesh and its routes. */
  public enum WaypointView {
    /** The mesh file {@code mesh/waypoint-<pod>/mesh.yaml} written on every {@link #publish()}, and its {@code routes/} directory ({@link #route}). */
    FILES,
    /** The controller through Hazelcast, like the agents: routes are manifests ({@link #apply}). */
    CONTROLLER
  }

  private final TwoNodeNetwork net;
  private final Launcher launcher;
  private final Path dir;
  private final Set<String> enrolled = new LinkedHashSet<>();
  private final Set<String> optedOut = new LinkedHashSet<>();
  private final Map<String, MeshService> services = new LinkedHashMap<>();
  private final Map<String, String> tokens = new LinkedHashMap<>();
  private NetnsProcess controller;
  private final Map<String, NetnsProcess> agents = new LinkedHashMap<>();
  private final Map<String, NetnsProcess> redirects = new LinkedHashMap<>();
  private final Map<String, String> extraManifests = new LinkedHashMap<>();
  private final Map<String, String> nodeNames = new LinkedHashMap<>();
  private final Map<String, NetnsProcess> waypoints = new LinkedHashMap<>();
  private final Set<String> waypointMeshFiles = new LinkedHashSet<>();
  private int generation;

  private CapstanMesh(TwoNodeNetwork net, Launcher launcher) {
    this.net = net;
    this.launcher = launcher;
    this.dir = net.runDir().resolve("mesh");
    SecureRandom random = new SecureRandom();
    for (Node n : net.nodes()) {
      byte[] token = new byte[24];
      random.nextBytes(token);
      tokens.put(n.name(), HexFormat.of().formatHex(token));
    }
  }

  /** A mesh on a started network, its programs started by {@code launcher}; nothing runs until {@link #startController()}. */
  public static CapstanMesh on(TwoNodeNetwork net, Launcher launcher) {
    if (net.node1() == null) {
      throw new IllegalStateException("the network is not started: use the mesh once it is (from @BeforeAll, say)");
    }
    return new CapstanMesh(net, launcher);
  }

  /** Where configs, tokens, the CA and manifests of this mesh are. */
  public Path dir() {
    return dir;
  }

  // ---------------------------------------------------------------- manifests

  /** Enrolls a Kubernetes namespace ({@code capstan.dev/mesh: enabled}); call {@link #publish()} once running. */
  public synchronized CapstanMesh enroll(String namespace) {
    enrolled.add(namespace);
    return this;
  }

  /** Adds or replaces a Service; call {@link #publish()} once running. */
  public synchronized CapstanMesh service(MeshService service) {
    services.put(service.namespace() + "/" + service.name(), service);
    return this;
  }

  /** Labels a pod {@code capstan.dev/mesh: disabled} and publishes. */
  public synchronized void optOut(String pod) {
    optedOut.add(pod);
    publish();
  }

  /** Removes a pod's opt-out label and publishes. */
  public synchronized void optIn(String pod) {
    optedOut.remove(pod);
    publish();
  }

  /** Deletes a pod from the network and from the manifests. */
  public synchronized void deletePod(String pod) {
    net.removePod(pod);
    optedOut.remove(pod);
    publish();
  }

  /**
   * Makes the manifests (and waypoints' mesh files) say that {@code pod} is scheduled on {@code
   * nodeName} instead of the node whose network it hangs off. A node name no agent or redirect
   * runs for means: a workload of the mesh whose traffic no node captures (how the e2e waypoint
   * ran before waypoint pods were exempt from capture, docs/e2e.md "Waypoint"). Call {@link
   * #publish()} once running.
   */
  public synchronized CapstanMesh scheduleAs(String pod, String nodeName) {
    nodeNames.put(pod, nodeName);
    return this;
  }

  /** Writes the manifests for the network's pods as they are now (the controller polls every 500 ms). */
  public synchronized void publish() {
    StringBuilder yaml = new StringBuilder(Manifests.render(net.pods(), enrolled, optedOut, nodeNames, services.values()));
    extraManifests.values().forEach(doc -> yaml.append("---\n").append(doc.strip()).append('\n'));
    Manifests.write(dir.resolve("manifests"), yaml.toString());
    for (String pod : waypointMeshFiles) {
      Manifests.writeAtomically(waypointDir(pod).resolve("mesh.yaml"), waypointMeshFile());
    }
  }

  private String waypointMeshFile() {
    return Manifests.renderMeshFile(net.pods(), enrolled, optedOut, nodeNames, services.values());
  }

  /** Adds (or replaces) a manifest document of another kind (an AuthorizationPolicy...) and publishes. */
  public synchronized void apply(String name, String yaml) {
    extraManifests.put(name, yaml);
    publish();
  }

  /** Removes a document added with {@link #apply} and publishes. */
  public synchronized void remove(String name) {
    extraManifests.remove(name);
    publish();
  }

  // ---------------------------------------------------------------- processes

  /**
   * Makes the mesh root ({@code ca/root-cert.pem}, {@code root-key.pem}) as the controller would
   * on its first start, which then loads it: agents and waypoints can start beside the controller
   * instead of after it. Idempotent.
   */
  public synchronized Path createRoot() {
    Path cert = rootCert();
    if (Files.isRegularFile(cert)) {
      return cert;
    }
    Issuer root = Issuer.selfSignedRoot("cluster.local", Instant.now(), Duration.ofDays(365));
    writeSecret(cert.resolveSibling("root-key.pem"), Pem.encodeKey(root.key()));
    write(cert, Pem.encode(root.certificate()));
    return cert;
  }

  /** Writes the controller's config, tokens and manifests, starts it in node1's namespace and waits until ready. */
  public NetnsProcess startController() {
    NetnsProcess p = launchController();
    awaitControllerReady();
    return p;
  }

  /** Waits until the controller answers 200 on its readiness URL and the root exists. */
  public void awaitControllerReady() {
    NetnsProcess p = controller();
    p.awaitHttp200(CONTROLLER_READY, STARTUP);
    if (!Files.isRegularFile(rootCert())) {
      throw new IllegalStateException("the controller is ready but wrote no " + rootCert() + "; last 50 lines:\n" + p.tail(50));
    }
  }

  /** Writes the controller's config, tokens and manifests and starts it in node1's namespace (no wait). */
  public synchronized NetnsProcess launchController() {
    if (controller != null) {
      throw new IllegalStateException("the controller runs already: " + controller);
    }
    StringBuilder tokenLines = new StringBuilder("# node name → bootstrap token (random per run)\n");
    tokens.forEach((node, token) -> tokenLines.append(node).append(": ").append(token).append('\n'));
    writeSecret(dir.resolve("tokens.yaml"), tokenLines.toString());
    publish();
    Path config = write(dir.resolve("controller.yaml"), String.join("\n",
        "# The controller: clusterless, in node1's namespace, reachable over the wire on 10.0.0.1.",
        "name: controller-0",
        "manifests: manifests",
        "pollInterval: 500ms",
        "hazelcast:",
        "  clusterName: " + net.runId(),
        "  listen: " + HAZELCAST,
        "leader: oldest-member",
        "ca:",
        "  listen: " + CA,
        "  dir: ca",
        "  bootstrapTokens: tokens.yaml",
        "admin: 127.0.0.1:19000",
        "metrics: 10.0.0.1:19020",
        "ready: 10.0.0.1:19021",
        ""));
    controller = net.start("controller", net.node1().netns(), launcher.command(Launcher.Program.CONTROLLER,
        List.of("run", "--config", config.toString())));
    return controller;
  }

  /** Writes {@code node}'s agent config and token and starts the agent in the node's namespace (no wait). */
  public synchronized NetnsProcess startAgent(Node node, AgentMode mode) {
    if (!Files.isRegularFile(rootCert())) {
      throw new IllegalStateException("start the controller (or createRoot) first: agents need the root certificate " + rootCert());
    }
    if (agents.containsKey(node.name())) {
      throw new IllegalStateException("the agent of " + node.name() + " runs already");
    }
    Path token = writeSecret(dir.resolve(node.name() + ".token"), tokens.get(node.name()) + "\n");
    List<String> yaml = new ArrayList<>(List.of(
        "# The node agent of " + node.name() + " (" + mode + "), in the node's namespace.",
        "node: " + node.name(),
        "controller:",
        "  clusterName: " + net.runId(),
        "  members: [\"" + HAZELCAST + "\"]",
        "ca:",
        "  address: " + CA,
        "  root: " + rootCert(),
        "  token: " + token,
        "admin: 127.0.0.1:15000",
        "metrics: 0.0.0.0:15020",
        "ready: 0.0.0.0:15021",
        "explicitProxy: null",
        "workerThreads: 1",
        "drainTimeout: 1s"));
    if (mode == AgentMode.CAPTURE) {
      // ---- CAPTURE MODE (being built): the listeners nftables TPROXY delivers to; the redirect's
      // rules (startRedirect) must use the same ports and mark.
      yaml.addAll(List.of(
          "capture:",
          "  outbound: 127.0.0.1:15001",
          "  inbound: 127.0.0.1:15006",
          "  hbone: 127.0.0.1:15008",
          "  mark: 0x200000"));
    }
    yaml.add("");
    Path config = write(dir.resolve(node.name() + ".yaml"), String.join("\n", yaml));
    NetnsProcess agent = launchAgent(node, config);
    agents.put(node.name(), agent);
    return agent;
  }

  private NetnsProcess launchAgent(Node node, Path config) {
    return net.start("agent-" + node.name() + "-" + (++generation), node.netns(), launcher.command(Launcher.Program.AGENT,
        List.of("run", "--config", config.toString())));
  }

  /**
   * Restarts {@code node}'s agent as a DaemonSet update with surge would: a new agent process with
   * the same config starts beside the old one (its listeners share the ports), and once it logs
   * that it is ready the old one gets SIGTERM and drains. Returns the new process.
   */
  public NetnsProcess restartAgent(Node node) {
    NetnsProcess old = agent(node);
    NetnsProcess fresh = launchAgent(node, dir.resolve(node.name() + ".yaml"));
    fresh.awaitLog("node agent for " + node.name() + " is ready", STARTUP);
    synchronized (this) {
      agents.put(node.name(), fresh);
    }
    old.stop(Duration.ofSeconds(30));
    return fresh;
  }

  /** Kills {@code node}'s agent with SIGKILL (a crash: no drain) and waits until it is gone. */
  public void crashAgent(Node node) {
    NetnsProcess old = agent(node);
    Command.check(List.of("kill", "-KILL", Long.toString(old.pid())));
    old.awaitExit(Duration.ofSeconds(10));
  }

  /** Starts {@code node}'s agent again with its config (after a crash); returns it once ready. */
  public NetnsProcess startAgentAgain(Node node) {
    NetnsProcess fresh = launchAgent(node, dir.resolve(node.name() + ".yaml"));
    synchronized (this) {
      agents.put(node.name(), fresh);
    }
    fresh.awaitLog("node agent for " + node.name() + " is ready", STARTUP);
    return fresh;
  }

  /** Starts both agents, then waits until both are ready (their JVMs start side by side). */
  public List<NetnsProcess> startAgents(AgentMode mode) {
    List<NetnsProcess> started = new ArrayList<>();
    for (Node n : net.nodes()) {
      started.add(startAgent(n, mode));
    }
    for (Node n : net.nodes()) {
      awaitAgentReady(n);
    }
    return started;
  }

  /** Waits until {@code node}'s agent answers 200 on {@code /healthz/ready}: mesh loaded, certificates in. */
  public void awaitAgentReady(Node node) {
    agent(node).awaitHttp200(AGENT_READY, STARTUP);
  }

  /**
   * Starts {@code capstan-redirect} in {@code node}'s namespace, watching the controller, with the
   * agents' capture ports and mark, reconciling every second; waits for its first apply.
   */
  public synchronized NetnsProcess startRedirect(Node node) {
    Path config = write(dir.resolve("redirect-" + node.name() + ".yaml"), String.join("\n",
        "# The redirect of " + node.name() + ": the same ports and mark as the agent's capture block.",
        "node: " + node.name(),
        "controller:",
        "  clusterName: " + net.runId(),
        "  members: [\"" + HAZELCAST + "\"]",
        "capture:",
        "  address: 127.0.0.1",
        "  outboundPort: 15001",
        "  inboundPort: 15006",
        "  hbonePort: 15008",
        "  tproxyMark: 0x100000",
        "  agentMark: 0x200000",
        "  routeTable: 150",
        "table: capstan",
        "reconcileInterval: 1s",
        ""));
    NetnsProcess p = net.start("redirect-" + node.name() + "-" + (++generation), node.netns(),
        launcher.command(Launcher.Program.REDIRECT, List.of("run", "--config", config.toString())));
    redirects.put(node.name(), p);
    return p;
  }

  public synchronized NetnsProcess redirect(Node node) {
    NetnsProcess r = redirects.get(node.name());
    if (r == null) {
      throw new IllegalStateException("no redirect started on " + node.name());
    }
    return r;
  }

  // ---------------------------------------------------------------- waypoints

  /** A waypoint's readiness, from inside its pod's namespace. */
  public static final String WAYPOINT_READY = "http://127.0.0.1:15021/healthz/ready";
  /** A waypoint's metrics, from inside its pod's namespace. */
  public static final String WAYPOINT_METRICS = "http://127.0.0.1:15020/metrics";

  /** {@link #startWaypoint(Pod, WaypointView)} reading its mesh and routes from files. */
  public NetnsProcess startWaypoint(Pod pod) {
    return startWaypoint(pod, WaypointView.FILES);
  }

  /**
   * Starts {@code capstan-waypoint} as the process of {@code pod} (its own namespace and IP,
   * listening for HBONE on {@code <pod IP>:15008}), with the pod's namespace and service account
   * as its identity (no wait: {@link #awaitWaypointReady}). The pod must be a workload of the mesh
   * and endpoint of the waypoint's service (exposing 15008) — declared by the caller.
   *
   * <p>What it reads, all under {@code mesh/waypoint-<pod>/}: {@code waypoint.yaml}; with {@link
   * WaypointView#FILES} {@code mesh.yaml}, the mesh in the agents' mesh-file format, rewritten on
   * every {@link #publish()}, and {@code routes/} (see {@link #route}); {@code certs/}: the mesh
   * root and a leaf for {@code <namespace>/<serviceAccount>}, issued here from the root (the
   * waypoint cannot ask the CA yet); the root key is never copied there.
   */
  public synchronized NetnsProcess startWaypoint(Pod pod, WaypointView view) {
    if (!Files.isRegularFile(rootCert())) {
      throw new IllegalStateException("start the controller (or createRoot) first: the waypoint's certificate comes from the root");
    }
    if (waypoints.containsKey(pod.name())) {
      throw new IllegalStateException("the waypoint " + pod.name() + " runs already");
    }
    Path wdir = waypointDir(pod.name());
    issueLeaf(wdir.resolve("certs"), SpiffeId.of("cluster.local", pod.namespace(), pod.spec().serviceAccount()));
    List<String> yaml = new ArrayList<>(List.of(
        "# The waypoint " + pod.name() + ", in its pod's namespace.",
        "namespace: " + pod.namespace(),
        "serviceAccount: " + pod.spec().serviceAccount(),
        "listen: " + pod.ip() + ":15008",
        "hbonePort: 15008",
        "certs: certs"));
    if (view == WaypointView.FILES) {
      write(wdir.resolve("routes").resolve(".keep"), "");
      waypointMeshFiles.add(pod.name());
      Manifests.writeAtomically(wdir.resolve("mesh.yaml"), waypointMeshFile());
      yaml.addAll(List.of("mesh: mesh.yaml", "routes: routes", "reloadInterval: 500ms"));
    } else {
      yaml.addAll(List.of("controller:", "  clusterName: " + net.runId(), "  members: [\"" + HAZELCAST + "\"]"));
    }
    yaml.addAll(List.of(
        "admin: 127.0.0.1:15000",
        "metrics: 0.0.0.0:15020",
        "ready: 0.0.0.0:15021",
        "requestTimeout: 10s",
        ""));
    Path config = write(wdir.resolve("waypoint.yaml"), String.join("\n", yaml));
    NetnsProcess p = net.start("waypoint-" + pod.name(), pod.netns(), launcher.command(Launcher.Program.WAYPOINT,
        List.of("run", "--config", config.toString())));
    waypoints.put(pod.name(), p);
    return p;
  }

  /** Writes {@code certs/root-cert.pem} and {@code certs/<ns>/<sa>/{cert-chain,key}.pem}: a 24 h leaf for {@code id} from the root. */
  private void issueLeaf(Path certs, SpiffeId id) {
    try {
      Path caDir = rootCert().getParent();
      Issuer root = new Issuer(Pem.privateKey(Files.readString(caDir.resolve("root-key.pem"))),
          Pem.certificates(Files.readString(rootCert())).get(0));
      CertifiedKey leaf = root.issue(id, Instant.now(), Duration.ofHours(24));
      Path identity = certs.resolve(id.namespace()).resolve(id.serviceAccount());
      write(certs.resolve("root-cert.pem"), Files.readString(rootCert()));
      writeSecret(identity.resolve("key.pem"), Pem.encodeKey(leaf.key()));
      write(identity.resolve("cert-chain.pem"), Pem.encode(leaf.chain()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue the waypoint's certificate from " + rootCert() + ": " + e.getMessage(), e);
    }
  }

  /** Waits until the waypoint of {@code pod} answers 200 on {@code /healthz/ready}. */
  public void awaitWaypointReady(Pod pod) {
    waypoint(pod).awaitHttp200(WAYPOINT_READY, STARTUP);
  }

  /** Adds or replaces a route manifest (an HTTPRoute) in the routes directory of the waypoint of {@code pod}. */
  public void route(Pod pod, String name, String yaml) {
    Manifests.writeAtomically(waypointDir(pod.name()).resolve("routes").resolve(name + ".yaml"), yaml.strip() + "\n");
  }

  public synchronized NetnsProcess waypoint(Pod pod) {
    NetnsProcess w = waypoints.get(pod.name());
    if (w == null) {
      throw new IllegalStateException("no waypoint started in " + pod.name());
    }
    return w;
  }

  /** {@code GET /metrics} of the waypoint of {@code pod} (Prometheus text). */
  public String waypointMetrics(Pod pod) {
    return Command.run(Duration.ofSeconds(15), Command.inNetns(pod.netns(),
        List.of("curl", "-sSf", "--max-time", "5", WAYPOINT_METRICS))).orThrow().stdout();
  }

  private Path waypointDir(String pod) {
    return dir.resolve("waypoint-" + pod);
  }

  /** {@code nft list table ip capstan} in {@code node}'s namespace (empty when the table is absent). */
  public String captureRules(Node node) {
    Command.Result r = Command.run(Duration.ofSeconds(10), Command.inNetns(node.netns(), List.of("nft", "list", "table", "ip", "capstan")));
    return r.ok() ? r.stdout() : "";
  }

  /** Packets counted so far by the redirect's named counter (spoofed, captured_outbound, no_agent...). */
  public long captureCounter(Node node, String counter) {
    String out = Command.run(Duration.ofSeconds(10), Command.inNetns(node.netns(),
        List.of("nft", "list", "counter", "ip", "capstan", counter))).orThrow().stdout();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("packets (\\d+)").matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("no packets in nft list counter " + counter + ": " + out);
    }
    return Long.parseLong(m.group(1));
  }

  public synchronized NetnsProcess controller() {
    if (controller == null) {
      throw new IllegalStateException("the controller is not started");
    }
    return controller;
  }

  public synchronized NetnsProcess agent(Node node) {
    NetnsProcess a = agents.get(node.name());
    if (a == null) {
      throw new IllegalStateException("no agent started on " + node.name());
    }
    return a;
  }

  /** {@code GET /config_dump} of {@code node}'s agent (JSON), from inside the node's namespace. */
  public String agentConfigDump(Node node) {
    return Command.run(Duration.ofSeconds(15), Command.inNetns(node.netns(),
        List.of("curl", "-sSf", "--max-time", "5", AGENT_ADMIN + "/config_dump"))).orThrow().stdout();
  }

  /** {@code GET /metrics} of {@code node}'s agent (Prometheus text). */
  public String agentMetrics(Node node) {
    return Command.run(Duration.ofSeconds(15), Command.inNetns(node.netns(),
        List.of("curl", "-sSf", "--max-time", "5", "http://127.0.0.1:15020/metrics"))).orThrow().stdout();
  }

  /** The mesh root the controller made on its first start. */
  public Path rootCert() {
    return dir.resolve("ca").resolve("root-cert.pem");
  }

  private static Path write(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path writeSecret(Path file, String text) {
    write(file, text);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }
}

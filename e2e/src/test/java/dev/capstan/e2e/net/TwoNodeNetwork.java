package dev.capstan.e2e.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that builds two nodes and their pods as network namespaces before a test
 * class and removes every namespace and process after it, in the spirit of Armeria's
 * {@code ServerExtension}:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final TwoNodeNetwork net = TwoNodeNetwork.create()
 *     .pod(PodSpec.of("shop", "client", 1))
 *     .pod(PodSpec.of("shop", "server", 2));
 * }</pre>
 *
 * <p>Topology: {@code node1} (10.0.0.1) and {@code node2} (10.0.0.2) joined by a veth "wire", each
 * forwarding and routing the other's pod CIDR (10.1.1.0/24, 10.1.2.0/24) over it. A pod is a
 * namespace with {@code eth0} = its IP/32 and a default route via 169.254.1.1; the host end of its
 * veth is in its node's namespace with {@code proxy_arp} and a /32 route to the pod (Calico style).
 *
 * <p>Every name starts with a per-run prefix {@code cse2e<pid><letter>}; namespaces left by runs
 * whose JVM is gone are deleted when a network starts. Without root, the class is skipped with a
 * loud {@code SKIPPED (needs root)} line (CI greps it and fails).
 */
public final class TwoNodeNetwork implements BeforeAllCallback, AfterAllCallback {
  /** The prefix of everything any run creates. */
  public static final String PREFIX = "cse2e";
  /** JVM options of every Java process the tests start (two shared CPUs here). */
  public static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-Xshare:auto");

  private static final AtomicInteger RUNS = new AtomicInteger();
  private static final Pattern OWN_NAME = Pattern.compile("^" + PREFIX + "(\\d+)[a-z]-");
  private static final Duration PROCESS_GRACE = Duration.ofSeconds(10);

  private final String runId;
  private final String ifPrefix;
  private final List<PodSpec> declared = new ArrayList<>();
  private final Map<String, Pod> pods = new LinkedHashMap<>();
  private final List<String> namespaces = new ArrayList<>();
  private final List<NetnsProcess> processes = new ArrayList<>();
  private final Map<Integer, Integer> nextHostOctet = new LinkedHashMap<>(Map.of(1, 10, 2, 10));
  private int nextVeth;
  private Node node1;
  private Node node2;
  private Path runDir;
  private Thread shutdownHook;
  private boolean closed;

  private TwoNodeNetwork() {
    long pid = ProcessHandle.current().pid();
    char run = (char) ('a' + RUNS.getAndIncrement() % 26);
    this.runId = PREFIX + pid + run;
    this.ifPrefix = "c" + pid + run; // interface names: at most 15 characters
  }

  /** A network with no pods yet; declare them with {@link #pod(PodSpec)}. */
  public static TwoNodeNetwork create() {
    return new TwoNodeNetwork();
  }

  /** Declares a pod built before the test class (or builds it at once if the network is up). */
  public synchronized TwoNodeNetwork pod(PodSpec spec) {
    if (node1 == null) {
      declared.add(spec);
    } else {
      addPod(spec);
    }
    return this;
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void beforeAll(ExtensionContext context) {
    String testClass = context.getRequiredTestClass().getSimpleName();
    if (!isRoot()) {
      System.out.println("!!!!!!!!!! " + testClass + " SKIPPED (needs root): network namespaces, veths and nftables need uid 0 !!!!!!!!!!");
      Assumptions.assumeTrue(false, testClass + " needs root");
    }
    start(testClass);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /** Builds the nodes and the declared pods; on any failure removes what was built and rethrows. */
  public synchronized void start(String label) {
    if (node1 != null) {
      throw new IllegalStateException(runId + " already started");
    }
    shutdownHook = new Thread(this::close, runId + "-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      runDir = Path.of(System.getProperty("capstan.e2e.logs", "target/e2e-logs")).toAbsolutePath()
          .resolve(runId + "-" + label);
      Files.createDirectories(runDir);
      removeStale();
      node1 = new Node(1, "node1", runId + "-node1", ifPrefix + "w1", "10.0.0.1", "10.1.1.0/24");
      node2 = new Node(2, "node2", runId + "-node2", ifPrefix + "w2", "10.0.0.2", "10.1.2.0/24");
      buildNodes();
      for (PodSpec spec : declared) {
        addPod(spec);
      }
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /**
   * Stops every process (reverse start order: TERM, KILL after a grace period) and deletes every
   * namespace this network made. Idempotent; also the JVM shutdown hook.
   */
  public void close() {
    List<NetnsProcess> toStop;
    List<String> toDelete;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toStop = new ArrayList<>(processes);
      toDelete = new ArrayList<>(namespaces);
    }
    List<String> problems = new ArrayList<>();
    Collections.reverse(toStop);
    for (NetnsProcess p : toStop) {
      try {
        p.stop(PROCESS_GRACE);
      } catch (RuntimeException e) {
        problems.add("stopping " + p + ": " + e.getMessage());
      }
    }
    Collections.reverse(toDelete);
    for (String ns : toDelete) {
      try {
        deleteNetns(ns);
      } catch (RuntimeException e) {
        problems.add(e.getMessage());
      }
    }
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down: the hook runs close(), which is a no-op now.
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(runId + ": cleanup incomplete: " + String.join("; ", problems));
    }
  }

  // ---------------------------------------------------------------- what the tests use

  public String runId() {
    return runId;
  }

  /** Where logs, configs and captures of this run go: {@code e2e/target/e2e-logs/<runId>-<TestClass>/}. */
  public Path runDir() {
    return runDir;
  }

  public Node node1() {
    return node1;
  }

  public Node node2() {
    return node2;
  }

  /** Node 1 or 2. */
  public Node node(int index) {
    return switch (index) {
      case 1 -> node1;
      case 2 -> node2;
      default -> throw new IllegalArgumentException("node must be 1 or 2, got " + index);
    };
  }

  public List<Node> nodes() {
    return List.of(node1, node2);
  }

  /** The pod named {@code name}; throws if there is none. */
  public synchronized Pod pod(String name) {
    Pod p = pods.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no pod " + name + " in " + runId + "; pods: " + pods.keySet());
    }
    return p;
  }

  /** The pods that exist now, in creation order. */
  public synchronized List<Pod> pods() {
    return List.copyOf(pods.values());
  }

  /** Builds a pod now: namespace, veth pair, addresses and routes. */
  public synchronized Pod addPod(PodSpec spec) {
    if (pods.containsKey(spec.name())) {
      throw new IllegalArgumentException("pod " + spec.name() + " exists already");
    }
    Node node = node(spec.node());
    String ip = spec.ip().orElseGet(() -> node.podIp(nextHostOctet.merge(node.index(), 1, Integer::sum) - 1));
    String netns = runId + "-" + spec.name();
    String hostVeth = ifPrefix + "p" + nextVeth++;
    addNetns(netns);
    ip("link", "add", hostVeth, "netns", node.netns(), "type", "veth", "peer", "name", "eth0", "netns", netns);
    ipIn(node.netns(), "link", "set", hostVeth, "up");
    sysctl(node.netns(), "net.ipv4.conf." + hostVeth + ".proxy_arp", "1");
    ipIn(node.netns(), "route", "add", ip + "/32", "dev", hostVeth);
    ipIn(netns, "addr", "add", ip + "/32", "dev", "eth0");
    ipIn(netns, "link", "set", "eth0", "up");
    ipIn(netns, "route", "add", Node.POD_GATEWAY, "dev", "eth0");
    ipIn(netns, "route", "add", "default", "via", Node.POD_GATEWAY, "dev", "eth0");
    Pod pod = new Pod(this, spec, node, ip, netns, hostVeth);
    pods.put(spec.name(), pod);
    return pod;
  }

  /** Deletes a pod: stops its processes, deletes its namespace (and so its veth) and its node route. */
  public synchronized void removePod(String name) {
    Pod pod = pod(name);
    for (NetnsProcess p : List.copyOf(processes)) {
      if (p.netns().equals(pod.netns())) {
        p.stop(PROCESS_GRACE);
        processes.remove(p);
      }
    }
    deleteNetns(pod.netns());
    namespaces.remove(pod.netns());
    // The veth went with the namespace, and the /32 route with the veth; nothing else to undo.
    pods.remove(name);
  }

  /** Starts {@code argv} in {@code netns}, logging to {@code <runDir>/<name>.log}; stopped with the network. */
  public synchronized NetnsProcess start(String name, String netns, List<String> argv) {
    if (closed) {
      throw new IllegalStateException(runId + " is closed");
    }
    NetnsProcess p = new NetnsProcess(name, netns, argv, runDir.resolve(name + ".log"));
    processes.add(p);
    return p;
  }

  /** Starts {@code java <JVM_OPTIONS> -jar <jar> <args...>} in {@code netns}. */
  public NetnsProcess startJar(String name, String netns, Path jar, List<String> args) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " does not exist: build it first (./mvnw -B -pl e2e -am verify builds it)");
    }
    List<String> argv = new ArrayList<>();
    argv.add(javaBinary());
    argv.addAll(JVM_OPTIONS);
    argv.add("-jar");
    argv.add(jar.toString());
    argv.addAll(args);
    return start(name, netns, argv);
  }

  /** Runs {@code argv} in {@code netns} to completion; the result whatever the exit code. */
  public Command.Result exec(String netns, Duration timeout, String... argv) {
    return Command.run(timeout, Command.inNetns(netns, List.of(argv)));
  }

  /** Installs the test's nftables counters on {@code node}'s wire (table {@code ip cse2e_wire}). */
  public WireCounters wireCounters(Node node) {
    return WireCounters.install(node);
  }

  /** Starts tcpdump on {@code node}'s wire, writing {@code <runDir>/<name>.pcap}; returns once it captures. */
  public WireCapture captureWire(Node node, String name) {
    return WireCapture.start(this, node, name);
  }

  /** The command line of a tool of {@code dev.capstan.e2e.tools}, run from the test classes. */
  public List<String> toolCommand(Class<?> tool, List<String> args) {
    List<String> argv = new ArrayList<>(List.of(javaBinary(), "-Xmx64m", "-XX:+UseSerialGC", "-Xshare:auto",
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("capstan.e2e.testClasses", "target/test-classes"),
        tool.getName()));
    argv.addAll(args);
    return argv;
  }

  /** A jar named by a system property (set by the e2e pom's surefire configuration). */
  public static Path jar(String property) {
    String path = System.getProperty(property);
    if (path == null) {
      throw new IllegalStateException("system property " + property + " is not set: run through Maven (e2e/pom.xml sets it)");
    }
    return Path.of(path).toAbsolutePath().normalize();
  }

  /** Network namespaces whose name starts with {@code prefix}. */
  public static List<String> netnsWithPrefix(String prefix) {
    return Command.check("ip", "netns", "list").stdout().lines()
        .map(l -> l.split("\\s+")[0])
        .filter(n -> n.startsWith(prefix))
        .toList();
  }

  // ---------------------------------------------------------------- building

  private void buildNodes() {
    for (Node n : nodes()) {
      addNetns(n.netns());
      sysctl(n.netns(), "net.ipv4.ip_forward", "1");
      ipIn(n.netns(), "addr", "add", Node.POD_GATEWAY + "/32", "dev", "lo");
    }
    ip("link", "add", node1.wireInterface(), "netns", node1.netns(), "type", "veth",
        "peer", "name", node2.wireInterface(), "netns", node2.netns());
    for (Node n : nodes()) {
      Node other = n == node1 ? node2 : node1;
      ipIn(n.netns(), "addr", "add", n.wireIp() + "/24", "dev", n.wireInterface());
      ipIn(n.netns(), "link", "set", n.wireInterface(), "up");
      ipIn(n.netns(), "route", "add", other.podCidr(), "via", other.wireIp(), "dev", n.wireInterface());
    }
  }

  private void addNetns(String netns) {
    ip("netns", "add", netns);
    namespaces.add(netns);
    ipIn(netns, "link", "set", "lo", "up");
  }

  private static void ip(String... args) {
    List<String> argv = new ArrayList<>(List.of("ip"));
    argv.addAll(List.of(args));
    Command.check(argv);
  }

  private static void ipIn(String netns, String... args) {
    List<String> argv = new ArrayList<>(List.of("ip", "-n", netns));
    argv.addAll(List.of(args));
    Command.check(argv);
  }

  /** Sets a sysctl inside {@code netns}. */
  public static void sysctl(String netns, String key, String value) {
    Command.check(Command.inNetns(netns, List.of("sysctl", "-q", "-w", key + "=" + value)));
  }

  /** Kills what still runs in {@code netns}, then deletes it. */
  private static void deleteNetns(String netns) {
    Command.Result pids = Command.run(Command.SHORT, List.of("ip", "netns", "pids", netns));
    if (pids.ok()) {
      pids.stdout().lines().map(String::strip).filter(s -> s.matches("\\d+"))
          .forEach(pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly));
    }
    Command.Result del = Command.run(Command.SHORT, List.of("ip", "netns", "del", netns));
    if (!del.ok() && netnsWithPrefix(netns).contains(netns)) {
      throw new Command.CommandException("ip netns del " + netns + " failed: " + del.stderr().strip());
    }
  }

  /** Deletes namespaces of earlier runs whose JVM is gone (pid in the name no longer exists). */
  private static void removeStale() {
    for (String ns : netnsWithPrefix(PREFIX)) {
      Matcher m = OWN_NAME.matcher(ns);
      if (m.find() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
        System.out.println("e2e: removing namespace " + ns + " left by a run that is gone");
        deleteNetns(ns);
      }
    }
  }

  private static boolean isRoot() {
    try {
      Optional<String> uid = Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith("Uid:")).findFirst();
      return uid.map(l -> l.split("\\s+")[2].equals("0")).orElse(false);
    } catch (IOException e) {
      return false;
    }
  }

  /** The {@code java} of the JVM running the tests (every Java process of the tests uses it). */
  public static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}

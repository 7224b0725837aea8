package dev.capstan.netlab;

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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two nodes and their pods as network namespaces, built by {@link #start(Path)} and removed, with
 * every process started in them, by {@link #close()} (also a JVM shutdown hook):
 *
 * <pre>{@code
 * TwoNodeNetwork net = TwoNodeNetwork.create(TwoNodeNetwork.Settings.of("cse2e", 'c', toolClasspath))
 *     .pod(PodSpec.of("shop", "client", 1))
 *     .pod(PodSpec.of("shop", "server", 2));
 * net.start(runDir);
 * }</pre>
 *
 * <p>Topology: {@code node1} (10.0.0.1) and {@code node2} (10.0.0.2) joined by a veth "wire", each
 * forwarding and routing the other's pod CIDR (10.1.1.0/24, 10.1.2.0/24) over it. A pod is a
 * namespace with {@code eth0} = its IP/32 and a default route via 169.254.1.1; the host end of its
 * veth is in its node's namespace with {@code proxy_arp} and a /32 route to the pod (Calico style).
 * Every address is inside a namespace of the network: nothing touches the namespace it runs from.
 *
 * <p>Every name starts with a per-run prefix {@code <prefix><pid><letter>}; namespaces with the
 * same prefix left by runs whose JVM is gone are removed (what runs in them killed) when a network
 * starts. Needs root ({@link #isRoot()}).
 */
public final class TwoNodeNetwork implements AutoCloseable {
  /** JVM options of every Java process of ours started in the network (two shared CPUs here). */
  public static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-Xshare:auto");
  /** JVM options of the small programs started with {@link #toolCommand}: little heap, C1 only. */
  public static final List<String> TOOL_JVM_OPTIONS = List.of("-Xmx64m", "-XX:+UseSerialGC", "-Xshare:auto",
      "-XX:TieredStopAtLevel=1");

  private static final AtomicInteger RUNS = new AtomicInteger();
  /** The run ids of the networks of this JVM that are not closed: never stale. */
  private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();
  private static final Duration PROCESS_GRACE = Duration.ofSeconds(10);

  /**
   * What a network is named after and how it runs its programs.
   *
   * @param prefix the start of every namespace name ({@code cse2e}, {@code csdemo}): 2 to 8
   *     lowercase letters or digits, a letter first; stale namespaces are found by it
   * @param interfaceLetter the first character of every interface name (names are at most 15
   *     characters, so the prefix does not fit)
   * @param toolClasspath the class path of the programs {@link #toolCommand} runs
   * @param notices told what a start cleaned up (a line each)
   */
  public record Settings(String prefix, char interfaceLetter, String toolClasspath, Consumer<String> notices) {
    public Settings {
      if (!prefix.matches("[a-z][a-z0-9]{1,7}")) {
        throw new IllegalArgumentException("prefix must be 2 to 8 lowercase letters or digits, a letter first, got '" + prefix + "'");
      }
      if (interfaceLetter < 'a' || interfaceLetter > 'z') {
        throw new IllegalArgumentException("interfaceLetter must be a lowercase letter, got '" + interfaceLetter + "'");
      }
    }

    /** Settings whose notices go to standard output. */
    public static Settings of(String prefix, char interfaceLetter, String toolClasspath) {
      return new Settings(prefix, interfaceLetter, toolClasspath, System.out::println);
    }
  }

  private final Settings settings;
  private final Pattern ownName;
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

  private TwoNodeNetwork(Settings settings) {
    this.settings = settings;
    this.ownName = Pattern.compile("^" + settings.prefix() + "(\\d+)([a-z])-");
    long pid = ProcessHandle.current().pid();
    char run = (char) ('a' + RUNS.getAndIncrement() % 26);
    this.runId = settings.prefix() + pid + run;
    this.ifPrefix = settings.interfaceLetter() + Long.toString(pid) + run; // interface names: at most 15 characters
  }

  /** A network with no pods yet; declare them with {@link #pod(PodSpec)}, build it with {@link #start(Path)}. */
  public static TwoNodeNetwork create(Settings settings) {
    return new TwoNodeNetwork(settings);
  }

  /** Declares a pod built by {@link #start(Path)} (or builds it at once if the network is up). */
  public synchronized TwoNodeNetwork pod(PodSpec spec) {
    if (node1 == null) {
      declared.add(spec);
    } else {
      addPod(spec);
    }
    return this;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Removes stale namespaces of earlier runs, builds the nodes and the declared pods; on any
   * failure removes what was built and rethrows.
   *
   * @param dir where logs and files of this run go (created)
   */
  public synchronized void start(Path dir) {
    if (node1 != null || closed) {
      throw new IllegalStateException(runId + " already started");
    }
    LIVE.add(runId);
    shutdownHook = new Thread(this::close, runId + "-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      runDir = dir.toAbsolutePath();
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
   * Stops every process (SIGTERM to all, newest first, then SIGKILL to any still running after a
   * grace period) and deletes every namespace this network made. Idempotent; also the JVM
   * shutdown hook.
   */
  @Override
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
    toStop.forEach(NetnsProcess::terminate);
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
    LIVE.remove(runId);
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

  // ---------------------------------------------------------------- what users of the network use

  public Settings settings() {
    return settings;
  }

  public String runId() {
    return runId;
  }

  /** Where logs, configs and captures of this run go (given to {@link #start(Path)}). */
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

  /** Runs {@code argv} in {@code netns} to completion; the result whatever the exit code. */
  public Command.Result exec(String netns, Duration timeout, String... argv) {
    return Command.run(timeout, Command.inNetns(netns, List.of(argv)));
  }

  /**
   * The command line of a small program of ours ({@code tool} has a {@code main}), run from the
   * settings' tool class path with {@link #TOOL_JVM_OPTIONS}.
   */
  public List<String> toolCommand(Class<?> tool, List<String> args) {
    List<String> argv = new ArrayList<>();
    argv.add(javaBinary());
    argv.addAll(TOOL_JVM_OPTIONS);
    argv.add("-cp");
    argv.add(settings.toolClasspath());
    argv.add(tool.getName());
    argv.addAll(args);
    return argv;
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

  /**
   * Deletes namespaces of earlier runs with this network's prefix: those whose JVM is gone (the
   * pid in the name no longer exists), and those named after this JVM's pid that no network of
   * this JVM owns (a killed run whose pid came round again).
   */
  private void removeStale() {
    long self = ProcessHandle.current().pid();
    for (String ns : netnsWithPrefix(settings.prefix())) {
      Matcher m = ownName.matcher(ns);
      if (!m.find()) {
        continue;
      }
      long pid = Long.parseLong(m.group(1));
      boolean gone = pid == self ? !LIVE.contains(settings.prefix() + pid + m.group(2)) : ProcessHandle.of(pid).isEmpty();
      if (gone) {
        settings.notices().accept("removing namespace " + ns + " left by a run that is gone");
        deleteNetns(ns);
      }
    }
  }

  /** Whether this process runs as root (uid 0): network namespaces, veths and nftables need it. */
  public static boolean isRoot() {
    try {
      Optional<String> uid = Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith("Uid:")).findFirst();
      return uid.map(l -> l.split("\\s+")[2].equals("0")).orElse(false);
    } catch (IOException e) {
      return false;
    }
  }

  /** The {@code java} of this JVM (every Java process started in the network uses it). */
  public static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}

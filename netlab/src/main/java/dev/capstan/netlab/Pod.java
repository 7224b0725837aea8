package dev.capstan.netlab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A pod of the test network: a network namespace with {@code eth0} (its IP/32, default route via
 * {@link Node#POD_GATEWAY}), whose host end {@link #hostVeth()} lives in its node's namespace.
 */
public final class Pod {
  /** How long a tool run in a pod may take before it is killed. */
  public static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);

  private final TwoNodeNetwork network;
  private final PodSpec spec;
  private final Node node;
  private final String ip;
  private final String netns;
  private final String hostVeth;

  Pod(TwoNodeNetwork network, PodSpec spec, Node node, String ip, String netns, String hostVeth) {
    this.network = network;
    this.spec = spec;
    this.node = node;
    this.ip = ip;
    this.netns = netns;
    this.hostVeth = hostVeth;
  }

  public PodSpec spec() {
    return spec;
  }

  public String name() {
    return spec.name();
  }

  public String namespace() {
    return spec.namespace();
  }

  public Node node() {
    return node;
  }

  public String ip() {
    return ip;
  }

  public String netns() {
    return netns;
  }

  /** The pod's interface as seen from its node (where anti-spoofing and capture rules match). */
  public String hostVeth() {
    return hostVeth;
  }

  /** Runs {@code argv} in the pod's namespace; the result whatever the exit code. */
  public Command.Result exec(Duration timeout, String... argv) {
    return Command.run(timeout, Command.inNetns(netns, List.of(argv)));
  }

  /** {@code curl -sS --max-time 5 <extra...> <url>} from the pod; the result whatever the exit code. */
  public Command.Result curl(String url, String... extra) {
    List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--max-time", "5"));
    argv.addAll(List.of(extra));
    argv.add(url);
    return Command.run(Duration.ofSeconds(15), Command.inNetns(netns, argv));
  }

  /** Runs a small program of ours ({@link TwoNodeNetwork#toolCommand}) to completion in the pod. */
  public Command.Result runTool(Class<?> tool, String... args) {
    return Command.run(TOOL_TIMEOUT, Command.inNetns(netns, network.toolCommand(tool, List.of(args))));
  }

  /** Starts a small program of ours as a long-running process of the pod (stopped with the network). */
  public NetnsProcess startTool(String processName, Class<?> tool, String... args) {
    return network.start(processName, netns, network.toolCommand(tool, List.of(args)));
  }

  @Override
  public String toString() {
    return spec.namespace() + "/" + spec.name() + " (" + ip + " on " + node.name() + ", netns " + netns + ")";
  }
}

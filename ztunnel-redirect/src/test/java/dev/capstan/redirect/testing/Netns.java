package dev.capstan.redirect.testing;

import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.exec.ProcessCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A throwaway "node" network namespace, and the "pod" namespaces the test attaches to it with veth
 * pairs (Calico style: the pod's default route goes via 169.254.1.1 on its eth0, the node routes
 * the pod IP to the host-side veth). {@link #close()} deletes them all.
 */
public final class Netns implements AutoCloseable {

  private final String name;
  private final List<String> pods = new ArrayList<>();
  private final Commands host = ProcessCommands.local();

  public Netns() {
    this.name = "capstan-rt-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    host.run("ip", "netns", "add", name).orThrow();
    run("ip", "link", "set", "lo", "up");
  }

  public String name() {
    return name;
  }

  /** Commands inside the node namespace. */
  public Commands commands() {
    return ProcessCommands.inNetns(name);
  }

  /** Runs in the node namespace; fails the test when the command fails. */
  public Commands.Result run(String... argv) {
    return commands().run(argv).orThrow();
  }

  /**
   * A pod: its own namespace with {@code eth0} = {@code ip}/32, the host side {@code hostIface} in
   * the node namespace, routed. Returns the pod namespace's name.
   */
  public String addPod(String hostIface, String ip) {
    String pod = name + "-p" + pods.size();
    host.run("ip", "netns", "add", pod).orThrow();
    pods.add(pod);
    host.run("ip", "link", "add", hostIface, "netns", name, "type", "veth", "peer", "name", "eth0", "netns", pod).orThrow();
    run("ip", "link", "set", hostIface, "up");
    run("ip", "addr", "add", "169.254.1.1/32", "dev", hostIface);
    run("ip", "route", "add", ip + "/32", "dev", hostIface);
    Commands inPod = ProcessCommands.inNetns(pod);
    inPod.run("ip", "link", "set", "lo", "up").orThrow();
    inPod.run("ip", "link", "set", "eth0", "up").orThrow();
    inPod.run("ip", "addr", "add", ip + "/32", "dev", "eth0").orThrow();
    inPod.run("ip", "route", "add", "169.254.1.1", "dev", "eth0").orThrow();
    inPod.run("ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0").orThrow();
    return pod;
  }

  /** Removes a pod's namespace (its veth goes with it). */
  public void removePod(String pod) {
    host.run("ip", "netns", "del", pod).orThrow();
    pods.remove(pod);
  }

  @Override
  public void close() {
    for (String pod : List.copyOf(pods)) {
      host.run("ip", "netns", "del", pod);
    }
    host.run("ip", "netns", "del", name);
  }
}

package dev.capstan.redirect.reconcile;

import dev.capstan.redirect.exec.CommandException;
import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.nft.CapturedPod;
import java.net.Inet4Address;
import java.util.Arrays;
import java.util.List;

/**
 * Finds the host-side interface of a pod IP with {@code ip -o route get}: per-pod point-to-point
 * routing (Calico, the ptp CNI) routes each pod IP straight to its veth. A pod routed through a
 * gateway, to {@code lo}, or not routed at all is not attached (yet).
 */
public final class Interfaces {

  private final Commands commands;

  public Interfaces(Commands commands) {
    this.commands = commands;
  }

  /** The pod with its interface, or waiting with the reason. */
  public CapturedPod resolve(String workload, Inet4Address ip) {
    Commands.Result r;
    try {
      r = commands.run("ip", "-o", "route", "get", ip.getHostAddress());
    } catch (CommandException e) {
      return CapturedPod.waiting(workload, ip, e.getMessage());
    }
    if (!r.ok()) {
      return CapturedPod.waiting(workload, ip, "no route: " + r.stderr().strip());
    }
    return parse(workload, ip, r.stdout());
  }

  /** Reads {@code 10.1.0.2 dev vpod1 src 10.1.0.1 uid 0 \ cache}. */
  static CapturedPod parse(String workload, Inet4Address ip, String routeGet) {
    List<String> t = Arrays.asList(routeGet.strip().split("\\s+"));
    if (t.isEmpty() || !t.get(0).equals(ip.getHostAddress())) {
      String type = t.isEmpty() ? "" : t.get(0);
      return CapturedPod.waiting(workload, ip, "route is of type '" + type + "', not a pod interface: " + routeGet.strip());
    }
    int via = t.indexOf("via");
    if (via >= 0 && via + 1 < t.size()) {
      return CapturedPod.waiting(workload, ip, "routed via gateway " + t.get(via + 1)
          + ", not a local pod interface (pod not attached yet, or a bridge CNI)");
    }
    int dev = t.indexOf("dev");
    if (dev < 0 || dev + 1 >= t.size()) {
      return CapturedPod.waiting(workload, ip, "route names no interface: " + routeGet.strip());
    }
    String iface = t.get(dev + 1);
    if (iface.equals("lo")) {
      return CapturedPod.waiting(workload, ip, "routed to lo: the address is local to the node, not a pod");
    }
    try {
      return CapturedPod.attached(workload, ip, iface);
    } catch (IllegalArgumentException e) {
      return CapturedPod.waiting(workload, ip, e.getMessage());
    }
  }
}

package dev.capstan.redirect.nft;

import static dev.capstan.redirect.config.RedirectConfig.hex;

import dev.capstan.redirect.config.RedirectConfig;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Renders the desired capture state as one nftables script that atomically replaces Capstan's
 * table: {@code table ip T {}} (so the delete cannot fail), {@code delete table ip T}, then the
 * full table, all in one {@code nft -f} transaction. The rules are fixed; only the three sets
 * change with the pods:
 *
 * <ul>
 *   <li>{@code pods}: every enrolled pod IP on this node (inbound capture);
 *   <li>{@code pod_sources}: {@code iface . ip} of pods whose interface is known (outbound capture,
 *       anti-spoofing);
 *   <li>{@code pod_ifaces}: those interfaces (anti-spoofing: anything else arriving there is dropped).
 * </ul>
 *
 * <p>IPv4 only: the table is family {@code ip}; IPv6 pod addresses are not captured (a recorded
 * limitation, see docs/redirect.md). The renderer is pure: same input, same bytes.
 */
public final class Ruleset {

  /** The named counters operators and tests read. */
  public static final List<String> COUNTERS =
      List.of("spoofed", "captured_outbound", "captured_inbound", "captured_hbone", "no_agent");

  private Ruleset() {}

  /** The script for {@code pods} (any order; rendered sorted by address). */
  public static String render(String table, RedirectConfig.Capture capture, List<CapturedPod> pods) {
    List<CapturedPod> sorted = pods.stream()
        .sorted(Comparator.comparingLong((CapturedPod p) -> ipOrder(p.address()))
            .thenComparing(p -> p.iface().orElse("")))
        .toList();
    Set<String> addresses = new TreeSet<>(Comparator.comparingLong(Ruleset::ipOrder));
    sorted.forEach(p -> addresses.add(p.address()));
    Set<String> sources = new java.util.LinkedHashSet<>();
    Set<String> ifaces = new TreeSet<>();
    for (CapturedPod p : sorted) {
      p.iface().ifPresent(i -> {
        sources.add(quote(i) + " . " + p.address());
        ifaces.add(quote(i));
      });
    }
    String agent = hex(capture.agentMark());
    String tproxy = hex(capture.tproxyMark());
    String at = capture.address().getHostAddress();
    StringBuilder s = new StringBuilder();
    s.append("# Capstan traffic capture, rendered by capstan-redirect. Do not edit: it is reconciled.\n");
    s.append("table ip ").append(table).append(" {}\n");
    s.append("delete table ip ").append(table).append('\n');
    s.append("table ip ").append(table).append(" {\n");
    for (String c : COUNTERS) {
      s.append("  counter ").append(c).append(" {}\n");
    }
    s.append('\n');
    set(s, "pods", "ipv4_addr", addresses);
    set(s, "pod_sources", "ifname . ipv4_addr", sources);
    set(s, "pod_ifaces", "ifname", ifaces);
    s.append("""
          # Connections the node agent opens carry its SO_MARK: remember it on the connection so that
          # their packets coming back from pods are never captured.
          chain output {
            type route hook output priority mangle; policy accept;
            meta mark & %1$s == %1$s ct mark set ct mark | %1$s
          }

          chain prerouting {
            type filter hook prerouting priority mangle; policy accept;
            # Anti-spoofing: on an enrolled pod's interface only that pod's own addresses may be the source.
            iifname @pod_ifaces iifname . ip saddr != @pod_sources counter name spoofed drop
            # The node agent's own connections are never captured, and their packets are routed to
            # the local stack (TPROXY mark → table local): the agent may have bound such a
            # connection to a pod's address (the destination sees the source pod's IP), so
            # replies to that address must come back to the agent, not leave for the pod's node.
            ct mark & %1$s == %1$s meta mark set %2$s accept
            # Replies are never captured: connections a pod did not start pass, including kubelet
            # probes, which the node opens through output (never prerouting) and answers come back to.
            ct direction reply accept
            # Outbound: TCP a pod opens goes to the agent. The counter and mark apply only when the
            # agent's transparent listener took the packet; without one the rule does not match...
            iifname . ip saddr @pod_sources meta l4proto tcp tproxy ip to %3$s:%4$d meta mark set %2$s counter name captured_outbound accept
            # ...and the packet is refused, never forwarded unproxied (TPROXY fails open; we fail closed).
            iifname . ip saddr @pod_sources meta l4proto tcp counter name no_agent reject with tcp reset
            # Inbound HBONE tunnels to a pod go to the agent's HBONE listener, or are refused.
            ip daddr @pods tcp dport %5$d tproxy ip to %3$s:%5$d meta mark set %2$s counter name captured_hbone accept
            ip daddr @pods tcp dport %5$d counter name no_agent reject with tcp reset
            # Other inbound TCP to a pod goes to the agent's plaintext inbound listener, or is refused.
            ip daddr @pods meta l4proto tcp tproxy ip to %3$s:%6$d meta mark set %2$s counter name captured_inbound accept
            ip daddr @pods meta l4proto tcp counter name no_agent reject with tcp reset
          }
        }
        """.formatted(agent, tproxy, at, capture.outboundPort(), capture.hbonePort(), capture.inboundPort())
        );
    return s.toString();
  }

  private static void set(StringBuilder s, String name, String type, Set<String> elements) {
    s.append("  set ").append(name).append(" {\n");
    s.append("    type ").append(type).append('\n');
    if (!elements.isEmpty()) {
      s.append("    elements = { ").append(elements.stream().collect(Collectors.joining(", "))).append(" }\n");
    }
    s.append("  }\n\n");
  }

  private static String quote(String iface) {
    return '"' + iface + '"';
  }

  private static long ipOrder(String dotted) {
    long v = 0;
    for (String part : dotted.split("\\.")) {
      v = (v << 8) | Long.parseLong(part);
    }
    return v;
  }
}

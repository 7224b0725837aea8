package dev.capstan.e2e.net;

import dev.capstan.netlab.Command;
import dev.capstan.netlab.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The test's own nftables table {@code ip cse2e_wire} in a node's namespace: named counters on the
 * wire interface, both directions (prerouting for what arrives, postrouting for what leaves), at
 * priorities outside any capture rules (-300 and 300), so they count what really crossed the wire.
 */
public final class WireCounters {
  /** The table's name (family {@code ip}). */
  public static final String TABLE = "cse2e_wire";
  private static final Pattern COUNTS = Pattern.compile("packets (\\d+) bytes (\\d+)");
  private static final String PODS = "{ 10.1.1.0/24, 10.1.2.0/24 }";

  /** What a counter counts. */
  public enum Counter {
    /** TCP to or from port 15008 (HBONE), any address. */
    HBONE("hbone"),
    /** TCP between pod addresses on any port but 15008: plaintext pod traffic on the wire. */
    POD_TCP("pod_tcp"),
    /** Any TCP on the wire. */
    TCP("any_tcp");

    final String nftName;

    Counter(String nftName) {
      this.nftName = nftName;
    }
  }

  /** A counter's value. */
  public record Counts(long packets, long bytes) {}

  private final Node node;

  private WireCounters(Node node) {
    this.node = node;
  }

  public static WireCounters install(Node node) {
    String w = node.wireInterface();
    String ruleset = String.join("\n",
        "table ip " + TABLE + " {",
        "  counter hbone { }",
        "  counter pod_tcp { }",
        "  counter any_tcp { }",
        // Two negated port matches in one rule (`tcp dport != 15008 tcp sport != 15008`) are
        // merged by nft 1.0.6 into one 4-byte compare that is true unless BOTH ports are 15008,
        // which counted HBONE between pod addresses (a waypoint's tunnels) as plaintext: the
        // exclusions are returns in a chain of their own instead.
        "  chain pod_tcp_count {",
        "    tcp dport 15008 return",
        "    tcp sport 15008 return",
        "    counter name \"pod_tcp\"",
        "  }",
        "  chain wire_in {",
        "    type filter hook prerouting priority -300; policy accept;",
        rules("iifname", w),
        "  }",
        "  chain wire_out {",
        "    type filter hook postrouting priority 300; policy accept;",
        rules("oifname", w),
        "  }",
        "}",
        "");
    applyRuleset(node, ruleset);
    return new WireCounters(node);
  }

  private static String rules(String dir, String wire) {
    String m = "    " + dir + " \"" + wire + "\" ";
    return String.join("\n",
        m + "meta l4proto tcp counter name \"any_tcp\"",
        m + "tcp dport 15008 counter name \"hbone\"",
        m + "tcp sport 15008 counter name \"hbone\"",
        m + "ip saddr " + PODS + " ip daddr " + PODS + " meta l4proto tcp jump pod_tcp_count");
  }

  private static void applyRuleset(Node node, String ruleset) {
    try {
      Path file = Files.createTempFile(TABLE, ".nft");
      try {
        Files.writeString(file, ruleset);
        Command.check(Command.inNetns(node.netns(), List.of("nft", "-f", file.toString())));
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Node node() {
    return node;
  }

  /** The counter's value now. */
  public Counts read(Counter counter) {
    String out = Command.check(Command.inNetns(node.netns(),
        List.of("nft", "list", "counter", "ip", TABLE, counter.nftName))).stdout();
    Matcher m = COUNTS.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("no packets/bytes in the output of nft list counter " + counter.nftName + ": " + out);
    }
    return new Counts(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
  }

  public long packets(Counter counter) {
    return read(counter).packets();
  }

  public long bytes(Counter counter) {
    return read(counter).bytes();
  }

  /** Sets every counter of the table back to 0. */
  public void reset() {
    Command.check(Command.inNetns(node.netns(), List.of("nft", "reset", "counters", "table", "ip", TABLE)));
  }

  /** Deletes the table (it also goes with the namespace). */
  public void remove() {
    Command.check(Command.inNetns(node.netns(), List.of("nft", "delete", "table", "ip", TABLE)));
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(node.name()).append(" wire:");
    for (Counter c : Counter.values()) {
      Counts v = read(c);
      b.append(' ').append(c.nftName).append('=').append(v.packets()).append("p/").append(v.bytes()).append('B');
    }
    return b.toString();
  }
}

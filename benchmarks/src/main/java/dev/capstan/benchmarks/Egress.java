package dev.capstan.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the controller members send to clients, from the kernel's TCP counters: {@code ss -tin}
 * on the established sockets whose local port is a member's port, summing {@code bytes_acked}
 * (member → client, acknowledged) and {@code bytes_received} (client → member). Sockets between
 * members (they exist before any client connects) are left out.
 */
final class Egress {

  /** Byte counters summed over the member-to-client sockets, and how many sockets there were. */
  record Sample(long sent, long received, int sockets) {
    Sample minus(Sample before) {
      return new Sample(sent - before.sent, received - before.received, sockets);
    }
  }

  private static final Pattern ACKED = Pattern.compile("\\bbytes_acked:(\\d+)");
  private static final Pattern RECEIVED = Pattern.compile("\\bbytes_received:(\\d+)");

  private final List<Integer> ports;
  private final Set<String> excluded;

  /** Call before any client connects: the sockets open now are between members. */
  Egress(List<Integer> ports) throws IOException, InterruptedException {
    this.ports = List.copyOf(ports);
    this.excluded = Set.copyOf(sockets().keySet());
  }

  private Egress(List<Integer> ports, Set<String> excluded) {
    this.ports = ports;
    this.excluded = excluded;
  }

  /** Counts only the sockets that open from now on (clients that connect later). */
  Egress newSocketsOnly() throws IOException, InterruptedException {
    return new Egress(ports, Set.copyOf(sockets().keySet()));
  }

  Sample sample() throws IOException, InterruptedException {
    long sent = 0;
    long received = 0;
    int n = 0;
    for (Map.Entry<String, long[]> e : sockets().entrySet()) {
      if (!excluded.contains(e.getKey())) {
        sent += e.getValue()[0];
        received += e.getValue()[1];
        n++;
      }
    }
    return new Sample(sent, received, n);
  }

  /** local+peer address → {bytes_acked, bytes_received}, for sockets whose local port is a member's. */
  private Map<String, long[]> sockets() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ss", "-tinH", "state", "established", "("));
    for (int i = 0; i < ports.size(); i++) {
      if (i > 0) {
        command.add("or");
      }
      command.addAll(List.of("sport", "=", ":" + ports.get(i)));
    }
    command.add(")");
    Process ss = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out;
    try (InputStream in = ss.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!ss.waitFor(10, TimeUnit.SECONDS) || ss.exitValue() != 0) {
      throw new IOException("ss failed: " + out);
    }
    Map<String, long[]> counters = new HashMap<>();
    String socket = null;
    for (String line : out.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (!Character.isWhitespace(line.charAt(0))) {
        // "0  0  127.0.0.1:5701  127.0.0.1:40112" (Recv-Q, Send-Q, local, peer)
        String[] f = line.trim().split("\\s+");
        socket = f[f.length - 2] + " " + f[f.length - 1];
      } else if (socket != null) {
        counters.put(socket, new long[] {counter(ACKED, line), counter(RECEIVED, line)});
        socket = null;
      }
    }
    return counters;
  }

  private static long counter(Pattern p, String line) {
    Matcher m = p.matcher(line);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }
}

package dev.capstan.e2e.net;

import dev.capstan.netlab.NetnsProcess;
import dev.capstan.netlab.Node;
import dev.capstan.netlab.TwoNodeNetwork;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * tcpdump on a node's wire interface, writing a pcap file: start, send traffic, {@link #stop()},
 * then ask whether a plaintext appeared ({@link #contains(String)}) and which TCP ports did.
 */
public final class WireCapture {
  private static final Duration QUIET = Duration.ofMillis(250);

  private final NetnsProcess tcpdump;
  private final Path pcap;
  private boolean stopped;

  private WireCapture(NetnsProcess tcpdump, Path pcap) {
    this.tcpdump = tcpdump;
    this.pcap = pcap;
  }

  /** Starts tcpdump on {@code node}'s wire, writing {@code <runDir>/<name>.pcap}; returns once it captures. */
  public static WireCapture start(TwoNodeNetwork network, Node node, String name) {
    Path pcap = network.runDir().resolve(name + ".pcap");
    // --immediate-mode and -U: each packet read and written at once (not a ring block a second
    // later); -Z root: keep writing into a root-owned directory.
    NetnsProcess p = network.start(name + "-tcpdump", node.netns(), List.of(
        "tcpdump", "-i", node.wireInterface(), "-n", "-s", "0", "--immediate-mode", "-U", "-Z", "root",
        "-w", pcap.toString(), "tcp"));
    p.awaitLog("listening on " + node.wireInterface(), Duration.ofSeconds(15));
    return new WireCapture(p, pcap);
  }

  public Path pcap() {
    return pcap;
  }

  /**
   * Stops tcpdump once the file has stopped growing (what the kernel already handed it is
   * written), then SIGTERM: it flushes and closes the file. Returns the pcap file. Idempotent.
   */
  public Path stop() {
    if (!stopped) {
      stopped = true;
      awaitQuiet();
      tcpdump.stop(Duration.ofSeconds(5));
    }
    return pcap;
  }

  private void awaitQuiet() {
    long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    long size = -1;
    try {
      while (System.nanoTime() < deadline) {
        long now = Files.exists(pcap) ? Files.size(pcap) : 0;
        if (now == size) {
          return;
        }
        size = now;
        Thread.sleep(QUIET.toMillis());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether {@code plaintext} (UTF-8) appears anywhere in the capture's bytes. Stops the capture first. */
  public boolean contains(String plaintext) {
    return contains(plaintext.getBytes(StandardCharsets.UTF_8));
  }

  /** Whether {@code needle} appears anywhere in the capture's bytes. Stops the capture first. */
  public boolean contains(byte[] needle) {
    byte[] hay = bytes();
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** Every TCP port (source and destination) of IPv4 packets in the capture. Stops the capture first. */
  public Set<Integer> tcpPorts() {
    Set<Integer> ports = new TreeSet<>();
    ByteBuffer b = ByteBuffer.wrap(bytes());
    if (b.remaining() < 24) {
      return ports;
    }
    int magic = b.order(ByteOrder.BIG_ENDIAN).getInt(0);
    if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
      b.order(ByteOrder.LITTLE_ENDIAN);
    } else if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
      throw new IllegalStateException(pcap + " is not a pcap file (magic " + Integer.toHexString(magic) + ")");
    }
    int linkType = b.getInt(20);
    int linkHeader = switch (linkType) {
      case 1 -> 14; // Ethernet (veth)
      case 113 -> 16; // Linux cooked
      case 276 -> 20; // Linux cooked v2
      default -> throw new IllegalStateException(pcap + ": link type " + linkType + " not understood");
    };
    int at = 24;
    while (at + 16 <= b.limit()) {
      int captured = b.getInt(at + 8);
      int packet = at + 16;
      if (packet + captured > b.limit()) {
        break; // the last packet was cut short
      }
      int ip = packet + linkHeader;
      if (captured >= linkHeader + 20 && (b.get(ip) >> 4 & 0xf) == 4 && b.get(ip + 9) == 6) {
        int tcp = ip + (b.get(ip) & 0xf) * 4;
        if (tcp + 4 <= packet + captured) {
          ports.add(Short.toUnsignedInt(b.duplicate().order(ByteOrder.BIG_ENDIAN).getShort(tcp)));
          ports.add(Short.toUnsignedInt(b.duplicate().order(ByteOrder.BIG_ENDIAN).getShort(tcp + 2)));
        }
      }
      at = packet + captured;
    }
    return ports;
  }

  private byte[] bytes() {
    stop();
    try {
      return Files.readAllBytes(pcap);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.capstan.redirect.config;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.hbone.Hbone;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Everything the redirect daemon is told at start-up.
 *
 * @param node this node's name, as {@code Workload.node()} names it: only its workloads are captured
 * @param mesh where the enrolled workloads come from: a mesh file or the controller
 * @param capture where captured traffic goes and how it is marked
 * @param table the name of the nftables table (family {@code ip}) that Capstan owns
 * @param reconcileInterval how often the kernel state is compared with the desired state and the
 *     mesh re-read whole
 */
public record RedirectConfig(String node, MeshSource mesh, Capture capture, String table, Duration reconcileInterval) {

  /** Where the enrolled workloads come from: exactly one of a file or the controller. */
  public sealed interface MeshSource permits MeshFile, Controller {}

  /** A mesh file (the node agent's format), re-read when it changes. */
  public record MeshFile(Path path) implements MeshSource {}

  /**
   * The controller, as a Hazelcast client.
   *
   * @param clusterName the controller's Hazelcast cluster name
   * @param members controller member addresses ({@code host:port})
   */
  public record Controller(String clusterName, List<String> members) implements MeshSource {
    public Controller {
      members = List.copyOf(members);
    }
  }

  /**
   * The capture settings.
   *
   * @param address where the node agent's transparent listeners are (IPv4)
   * @param outboundPort the agent's listener for connections pods open
   * @param inboundPort the agent's plaintext listener for connections to pods
   * @param hbonePort the agent's HBONE listener for tunnels to pods
   * @param tproxyMark the mark on TPROXYed packets, policy-routed to {@code local}
   * @param agentMark the {@code SO_MARK} of the agent's own sockets: their connections are never captured
   * @param routeTable the routing table that holds the {@code local} default route
   */
  public record Capture(
      Inet4Address address, int outboundPort, int inboundPort, int hbonePort, long tproxyMark, long agentMark,
      int routeTable) {

    /** The defaults: agent on 127.0.0.1, ports 15001/15006/15008, marks 0x100000/0x200000, table 150. */
    public static Capture defaults() {
      return new Capture((Inet4Address) Hbone.literalIp("127.0.0.1").orElseThrow(), 15001, 15006, 15008,
          0x100000L, 0x200000L, 150);
    }
  }

  /** Parses the redirect YAML; a relative mesh path is resolved against {@code baseDir}. */
  public static RedirectConfig parse(String yaml, String source, Path baseDir) {
    Fields f = Fields.parse(yaml, source).only("node", "controller", "mesh", "capture", "table", "reconcileInterval");
    String node = f.string("node");
    if (node.isBlank()) {
      throw new ConfigException(source + ": node must not be empty");
    }
    MeshSource mesh;
    if (f.has("mesh") && f.has("controller")) {
      throw new ConfigException(source + ": mesh (a file) and controller (Hazelcast members) exclude each other: keep one");
    } else if (!f.has("mesh") && !f.has("controller")) {
      throw new ConfigException(source + ": mesh is required (a file), or controller (Hazelcast members) instead");
    } else if (f.has("mesh")) {
      mesh = new MeshFile(baseDir.resolve(f.string("mesh")));
    } else {
      Fields c = f.object("controller").only("clusterName", "members");
      List<String> members = c.strings("members");
      if (members.isEmpty()) {
        throw new ConfigException(c.path() + ".members must list at least one controller address (host:port)");
      }
      mesh = new Controller(c.string("clusterName", "capstan"), members);
    }
    Capture d = Capture.defaults();
    Capture capture = f.optionalObject("capture").map(c -> {
      c.only("address", "outboundPort", "inboundPort", "hbonePort", "tproxyMark", "agentMark", "routeTable");
      String a = c.string("address", "127.0.0.1");
      Optional<InetAddress> ip = Hbone.literalIp(a);
      if (ip.isEmpty() || !(ip.get() instanceof Inet4Address v4)) {
        throw new ConfigException(c.path() + ".address must be a literal IPv4 address, got '" + a + "'");
      }
      long tproxy = mark(c, "tproxyMark", d.tproxyMark());
      long agent = mark(c, "agentMark", d.agentMark());
      if ((tproxy & agent) != 0) {
        throw new ConfigException(c.path() + ".tproxyMark (" + hex(tproxy) + ") and agentMark (" + hex(agent)
            + ") must not share bits: the agent's own connections would be routed to local and fail");
      }
      return new Capture(v4,
          c.integer("outboundPort", d.outboundPort(), 1, 65535),
          c.integer("inboundPort", d.inboundPort(), 1, 65535),
          c.integer("hbonePort", d.hbonePort(), 1, 65535),
          tproxy, agent,
          c.integer("routeTable", d.routeTable(), 1, 0x7fffffff));
    }).orElse(d);
    if (capture.routeTable() == 253 || capture.routeTable() == 254 || capture.routeTable() == 255) {
      throw new ConfigException(source + ": capture.routeTable must not be a reserved table (253 default, 254 main,"
          + " 255 local), got " + capture.routeTable());
    }
    String table = f.string("table", "capstan");
    if (!table.matches("[A-Za-z][A-Za-z0-9_\\-]{0,31}")) {
      throw new ConfigException(source + ": table must be an nftables identifier (a letter, then letters, digits,"
          + " '_' or '-', at most 32), got '" + table + "'");
    }
    Duration interval = f.duration("reconcileInterval", Duration.ofSeconds(10));
    if (interval.compareTo(Duration.ofMillis(100)) < 0) {
      throw new ConfigException(source + ": reconcileInterval must be at least 100ms, got '"
          + f.string("reconcileInterval") + "'");
    }
    return new RedirectConfig(node, mesh, capture, table, interval);
  }

  /** A 32-bit mark, hex ({@code 0x100000}) or decimal, non-zero. */
  private static long mark(Fields c, String key, long defaultValue) {
    Optional<String> s = c.optionalString(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    String text = s.get().trim();
    long value;
    try {
      value = text.startsWith("0x") || text.startsWith("0X")
          ? Long.parseLong(text.substring(2), 16)
          : Long.parseLong(text);
    } catch (NumberFormatException e) {
      value = -1;
    }
    if (value <= 0 || value > 0xffffffffL) {
      throw new ConfigException(c.path() + "." + key + " must be a non-zero 32-bit mark (hex like 0x100000 or"
          + " decimal), got '" + text + "'");
    }
    return value;
  }

  /** A mark as nft and ip print it in messages. */
  public static String hex(long mark) {
    return "0x" + Long.toHexString(mark);
  }
}

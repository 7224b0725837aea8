package dev.capstan.waypoint.config;

import dev.capstan.core.ca.CaClient;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.identity.SpiffeId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a waypoint runs with: its identity and where its certificate comes from (files, or the
 * controller's CA), listeners and limits, and where the mesh and routes come from (files, or the
 * controller through Hazelcast).
 *
 * @param namespace namespace the waypoint serves (its identity's)
 * @param serviceAccount service account of its identity
 * @param trustDomain trust domain of the mesh
 * @param listen where it accepts HBONE (its pod IP and the mesh's HBONE port)
 * @param hbonePort the node agents' HBONE port
 * @param certs where its certificate comes from: files, or the controller's CA
 * @param mesh the mesh file (the node agents' format), or empty when the controller gives the mesh
 * @param routes directory of HTTPRoute and GRPCRoute manifests ({@code *.yaml}), or empty
 * @param admin where {@code /config_dump} is served (loopback)
 * @param metrics where {@code /metrics} is served
 * @param ready where {@code /healthz/ready} is served
 * @param reloadInterval how often the files are checked for changes
 * @param maxBody largest request or response body, bytes
 * @param maxHeaderSize largest request head, bytes
 * @param requestTimeout a request's timeout when its route sets none
 * @param requestReadTimeout how long a request may take to arrive
 * @param controller the controller's Hazelcast cluster, when the mesh and the routes come from it
 *     instead of files
 */
public record WaypointConfig(
    String namespace, String serviceAccount, String trustDomain, InetSocketAddress listen, int hbonePort, CertSource certs,
    Optional<Path> mesh, Optional<Path> routes, InetSocketAddress admin, InetSocketAddress metrics, InetSocketAddress ready,
    Duration reloadInterval, int maxBody,
    int maxHeaderSize, Duration requestTimeout, Duration requestReadTimeout, Optional<Controller> controller) {

  /**
   * The mesh and the routes from the controller, as a Hazelcast client (as the node agents read it).
   *
   * @param clusterName the controller's Hazelcast cluster name
   * @param members controller member addresses ({@code host:port})
   */
  public record Controller(String clusterName, List<String> members) {
    public Controller {
      members = List.copyOf(members);
    }
  }

  /** Where the waypoint's certificate comes from: {@link CertFiles} or {@link CertAuthority}. */
  public sealed interface CertSource permits CertFiles, CertAuthority {}

  /**
   * The certificate from files, read once at start ({@code certs:}).
   *
   * @param dir directory with {@code root-cert.pem} and {@code <namespace>/<serviceAccount>/{cert-chain,key}.pem}
   */
  public record CertFiles(Path dir) implements CertSource {}

  /**
   * The certificate from the controller's CA ({@code ca:}), asked for at start with the pod's
   * token and renewed at half-life.
   *
   * @param host the CA's host
   * @param port the CA's port (15012)
   * @param root the mesh root(s), PEM: the CA server and the peers are verified against it
   * @param token the bearer token (the pod's projected service account token), read at each request
   * @param server how the CA server's certificate must name it: the controller's SPIFFE ID
   *     ({@code identity}, by default {@code spiffe://<trustDomain>/ns/capstan-system/sa/capstan-controller})
   *     or a DNS name ({@code serverName})
   */
  public record CertAuthority(String host, int port, Path root, Path token, CaClient.ServerCheck server)
      implements CertSource {}

  /** {@code certs} (a directory) or {@code ca} (the controller's CA), exactly one. */
  private static CertSource certs(Fields f, String source, String trustDomain, Path base) {
    if (f.has("certs") == f.has("ca")) {
      throw new ConfigException(source + ": exactly one of certs (a directory) or ca (the controller's CA) is required");
    }
    if (f.has("certs")) {
      return new CertFiles(base.resolve(f.string("certs")));
    }
    Fields c = f.object("ca").only("address", "root", "token", "identity", "serverName");
    String hostPort = c.optionalString("address")
        .orElseThrow(() -> new ConfigException(c.path() + ".address is required (host:port of the CA)"));
    int colon = hostPort.lastIndexOf(':');
    int port = colon > 0 && hostPort.substring(colon + 1).matches("[0-9]{1,5}")
        ? Integer.parseInt(hostPort.substring(colon + 1)) : -1;
    if (port < 1 || port > 65535) {
      throw new ConfigException(c.path() + ".address must be <host>:<port>, got '" + hostPort + "'");
    }
    String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
    Path root = c.optionalString("root").map(base::resolve)
        .orElseThrow(() -> new ConfigException(c.path() + ".root is required (the mesh root, root-cert.pem)"));
    Path token = c.optionalString("token").map(base::resolve)
        .orElseThrow(() -> new ConfigException(c.path() + ".token is required (the pod's projected token file)"));
    if (c.has("identity") && c.has("serverName")) {
      throw new ConfigException(c.path() + ": identity and serverName exclude each other: keep one");
    }
    CaClient.ServerCheck server;
    if (c.has("serverName")) {
      server = new CaClient.ServerCheck.ByName(c.string("serverName"));
    } else {
      String named = c.string("identity", "spiffe://" + trustDomain + "/ns/capstan-system/sa/capstan-controller");
      try {
        server = new CaClient.ServerCheck.ById(SpiffeId.parse(named));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(c.path() + ".identity: " + e.getMessage());
      }
    }
    return new CertAuthority(host, port, root, token, server);
  }

  /** Where the mesh comes from: exactly one of a file ({@code mesh}, with {@code routes}) or the controller. */
  private static Optional<Controller> controller(Fields f, String source) {
    if (f.has("mesh") == f.has("controller")) {
      throw new ConfigException(source + ": exactly one of mesh (a file) or controller (Hazelcast members) is required");
    }
    if (!f.has("controller")) {
      return Optional.empty();
    }
    if (f.has("routes")) {
      throw new ConfigException(f.at("routes") + ": with controller set, the routes come from the controller: remove routes");
    }
    Fields c = f.object("controller").only("clusterName", "members");
    List<String> members = c.strings("members");
    if (members.isEmpty()) {
      throw new ConfigException(c.path() + ".members must list at least one controller address (host:port)");
    }
    for (String m : members) {
      int colon = m.lastIndexOf(':');
      if (colon <= 0 || !m.substring(colon + 1).matches("[0-9]{1,5}") || Integer.parseInt(m.substring(colon + 1)) > 65535) {
        throw new ConfigException(c.path() + ".members: '" + m + "' must be host:port");
      }
    }
    return Optional.of(new Controller(c.string("clusterName", "capstan"), members));
  }

  /** Reads a config file; relative paths in it are relative to the file's directory. */
  public static WaypointConfig load(Path file) {
    try {
      return parse(Files.readString(file), file.toString(), file.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file + ": " + e.getMessage());
    }
  }

  private static InetSocketAddress admin(Fields f) {
    InetSocketAddress admin = f.address("admin", Optional.of(new InetSocketAddress("127.0.0.1", 15000))).orElseThrow();
    if (!admin.getAddress().isLoopbackAddress()) {
      throw new ConfigException(f.at("admin") + " must be a loopback address (the config dump is not for the network)");
    }
    return admin;
  }

  /** Parses a config; {@code base} resolves relative paths. */
  public static WaypointConfig parse(String text, String source, Path base) {
    Fields f = Fields.parse(text, source);
    f.only("namespace", "serviceAccount", "trustDomain", "listen", "hbonePort", "certs", "ca", "mesh", "routes", "admin", "metrics",
        "ready", "reloadInterval", "maxBody", "maxHeaderSize", "requestTimeout", "requestReadTimeout", "controller");
    Optional<Controller> controller = controller(f, source);
    String trustDomain = f.string("trustDomain", "cluster.local");
    InetSocketAddress listen = f.address("listen", Optional.empty())
        .orElseThrow(() -> new ConfigException(f.at("listen") + " is required (the waypoint pod's IP and HBONE port, e.g. 10.0.0.9:15008)"));
    return new WaypointConfig(
        f.string("namespace"),
        f.string("serviceAccount", "waypoint"),
        trustDomain,
        listen,
        f.integer("hbonePort", 15008, 1, 65535),
        certs(f, source, trustDomain, base),
        f.optionalString("mesh").map(base::resolve),
        f.optionalString("routes").map(base::resolve),
        admin(f),
        f.address("metrics", Optional.of(new InetSocketAddress("0.0.0.0", 15020))).orElseThrow(),
        f.address("ready", Optional.of(new InetSocketAddress("0.0.0.0", 15021))).orElseThrow(),
        f.duration("reloadInterval", Duration.ofSeconds(2)),
        (int) f.bytes("maxBody", 1 << 20, 0, 64L << 20),
        (int) f.bytes("maxHeaderSize", 8192, 1024, 1 << 20),
        f.duration("requestTimeout", Duration.ofSeconds(15)),
        f.duration("requestReadTimeout", Duration.ofSeconds(30)),
        controller);
  }
}

package dev.capstan.controller;

import dev.capstan.controller.cluster.Members;
import dev.capstan.core.admin.AdminServers;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.identity.SpiffeId;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the controller is told at start-up.
 *
 * @param name this replica's name (pod name in a cluster): leases and the published version carry it
 * @param trustDomain SPIFFE trust domain of the mesh
 * @param namespace the controller's own namespace (its Secret, ConfigMap, Lease and SPIFFE ID)
 * @param source where the mesh comes from
 * @param hazelcast how replicas find each other
 * @param leader how the writing replica is chosen
 * @param ca the certificate authority
 * @param admin config dump, metrics and readiness listeners
 * @param waypoints how the controller runs Waypoints in a cluster
 */
public record ControllerConfig(
    String name,
    String trustDomain,
    String namespace,
    Source source,
    Members.Settings hazelcast,
    Leader leader,
    Ca ca,
    AdminServers.Addresses admin,
    Waypoints waypoints) {

  /**
   * Running Waypoints in a cluster (leader only): each becomes a Deployment and a Service.
   *
   * @param deploy whether the controller creates them (default: with the kubernetes source)
   * @param image the waypoint's container image
   * @param imagePullPolicy {@code IfNotPresent}, {@code Always} or {@code Never}
   * @param members the controller addresses the waypoints connect to ({@code host:port})
   * @param resync how often every waypoint object is checked again
   */
  public record Waypoints(boolean deploy, String image, String imagePullPolicy, List<String> members, Duration resync) {
    public Waypoints {
      members = List.copyOf(members);
    }
  }

  /** The source of truth: a directory of manifests (clusterless) or the Kubernetes API. */
  public sealed interface Source permits Manifests, Kubernetes {}

  /** Manifests in {@code dir}, re-read when they change. */
  public record Manifests(Path dir, Duration pollInterval) implements Source {}

  /**
   * The Kubernetes API (in-cluster config or {@code KUBECONFIG}).
   *
   * @param namespaces namespaces to watch; empty watches all
   * @param resync informer resync period
   * @param debounce how long to gather events before recomputing the mesh
   */
  public record Kubernetes(Set<String> namespaces, Duration resync, Duration debounce) implements Source {
    public Kubernetes {
      namespaces = Set.copyOf(namespaces);
    }
  }

  /** Leadership: Hazelcast's oldest member (clusterless), or a Kubernetes Lease. */
  public enum Leader {
    OLDEST_MEMBER,
    LEASE
  }

  /**
   * The CA.
   *
   * @param listen where the gRPC CSR service listens (15012)
   * @param root where the root comes from
   * @param bootstrapTokens per-node tokens (clusterless); in Kubernetes callers present service-account tokens
   * @param serverNames DNS names on the CA's serving certificate besides its SPIFFE ID
   * @param leafValidity lifetime of issued workload certificates
   */
  public record Ca(InetSocketAddress listen, RootStore root, Optional<Path> bootstrapTokens, List<String> serverNames,
      Duration leafValidity) {
    public Ca {
      serverNames = List.copyOf(serverNames);
    }
  }

  /** Where the root CA lives. */
  public sealed interface RootStore permits RootDir, RootSecret, ProvidedRoot {}

  /** Generated on first start into {@code dir} (clusterless; replicas must share the directory or a copy). */
  public record RootDir(Path dir) implements RootStore {}

  /** Generated on first start into the Secret {@code capstan-ca} of the controller's namespace. */
  public record RootSecret() implements RootStore {}

  /** An operator's root or intermediate: chain (signing cert first) and key, PEM. */
  public record ProvidedRoot(Path certChain, Path key) implements RootStore {}

  /** Parses the controller's YAML configuration; relative paths resolve against {@code baseDir}. */
  public static ControllerConfig parse(String yaml, String source, Path baseDir) {
    Fields f = Fields.parse(yaml, source).only(
        "name", "trustDomain", "namespace", "manifests", "pollInterval", "kubernetes", "hazelcast", "leader", "ca", "admin", "metrics",
        "ready", "waypoints");
    String trustDomain = f.string("trustDomain", "cluster.local");
    String namespace = f.string("namespace", "capstan-system");
    try {
      SpiffeId.of(trustDomain, namespace, "capstan-controller");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": trustDomain/namespace: " + e.getMessage());
    }
    Source src;
    if (f.has("manifests") == f.has("kubernetes")) {
      throw new ConfigException(source + ": exactly one of manifests (a directory) or kubernetes is required");
    } else if (f.has("manifests")) {
      src = new Manifests(baseDir.resolve(f.string("manifests")), f.duration("pollInterval", Duration.ofSeconds(1)));
    } else {
      Fields k = f.optionalObject("kubernetes").orElse(Fields.parse("{}", source + ": kubernetes"))
          .only("namespaces", "resync", "debounce");
      src = new Kubernetes(Set.copyOf(k.strings("namespaces")), k.duration("resync", Duration.ofMinutes(10)),
          k.duration("debounce", Duration.ofMillis(50)));
    }
    Fields h = f.optionalObject("hazelcast").orElse(Fields.parse("{}", source + ": hazelcast"))
        .only("clusterName", "listen", "members", "kubernetesService");
    InetSocketAddress hzListen = h.address("listen", Optional.of(new InetSocketAddress("0.0.0.0", 5701)))
        .orElseThrow(() -> new ConfigException(h.path() + ".listen cannot be disabled"));
    List<String> members = h.strings("members");
    Optional<String> k8sService = h.optionalString("kubernetesService");
    if (members.isEmpty() && k8sService.isEmpty()) {
      members = List.of(hzListen.getAddress().isAnyLocalAddress()
          ? "127.0.0.1:" + hzListen.getPort() : hzListen.getHostString() + ":" + hzListen.getPort());
    }
    Members.Settings hazelcast = new Members.Settings(h.string("clusterName", "capstan"), hzListen, members, k8sService);
    String leaderName = f.string("leader", src instanceof Kubernetes ? "lease" : "oldest-member");
    Leader leader = switch (leaderName) {
      case "lease" -> Leader.LEASE;
      case "oldest-member" -> Leader.OLDEST_MEMBER;
      default -> throw new ConfigException(source + ": leader must be lease or oldest-member, got '" + leaderName + "'");
    };
    if (leader == Leader.LEASE && !(src instanceof Kubernetes)) {
      throw new ConfigException(source + ": leader: lease needs the kubernetes source");
    }
    Fields c = f.optionalObject("ca").orElse(Fields.parse("{}", source + ": ca"))
        .only("listen", "dir", "secret", "certChain", "key", "bootstrapTokens", "serverNames", "leafValidity");
    RootStore root;
    if (c.has("certChain") || c.has("key")) {
      root = new ProvidedRoot(baseDir.resolve(c.string("certChain")), baseDir.resolve(c.string("key")));
    } else if (c.has("dir")) {
      root = new RootDir(baseDir.resolve(c.string("dir")));
    } else if (src instanceof Kubernetes || c.bool("secret", false)) {
      root = new RootSecret();
    } else {
      throw new ConfigException(c.path() + ": clusterless needs ca.dir (where the root is kept) or ca.certChain + ca.key");
    }
    Optional<Path> tokens = c.optionalString("bootstrapTokens").map(baseDir::resolve);
    if (src instanceof Manifests && tokens.isEmpty()) {
      throw new ConfigException(c.path() + ".bootstrapTokens is required clusterless (a file of per-node tokens)");
    }
    List<String> serverNames = c.has("serverNames") ? c.strings("serverNames")
        : List.of("capstan-controller." + namespace + ".svc", "localhost");
    Ca ca = new Ca(c.address("listen", Optional.of(new InetSocketAddress("0.0.0.0", 15012)))
        .orElseThrow(() -> new ConfigException(c.path() + ".listen cannot be disabled")),
        root, tokens, serverNames, c.duration("leafValidity", Duration.ofHours(24)));
    InetSocketAddress admin = f.address("admin", Optional.of(new InetSocketAddress("127.0.0.1", 15000)))
        .orElseThrow(() -> new ConfigException(source + ": admin cannot be disabled"));
    if (!admin.getAddress().isLoopbackAddress()) {
      throw new ConfigException(source + ": admin must listen on a loopback address, got '" + f.string("admin") + "'");
    }
    AdminServers.Addresses addresses = new AdminServers.Addresses(admin,
        f.address("metrics", Optional.of(new InetSocketAddress("0.0.0.0", 15020)))
            .orElseThrow(() -> new ConfigException(source + ": metrics cannot be disabled")),
        f.address("ready", Optional.of(new InetSocketAddress("0.0.0.0", 15021)))
            .orElseThrow(() -> new ConfigException(source + ": ready cannot be disabled")));
    String name = f.string("name", Optional.ofNullable(System.getenv("POD_NAME")).orElse(hostName()));
    Fields w = f.optionalObject("waypoints").orElse(Fields.parse("{}", source + ": waypoints"))
        .only("deploy", "image", "imagePullPolicy", "members", "resync");
    boolean deploy = w.bool("deploy", src instanceof Kubernetes);
    if (deploy && !(src instanceof Kubernetes)) {
      throw new ConfigException(w.at("deploy") + ": waypoints are deployed only with the kubernetes source");
    }
    String pullPolicy = w.string("imagePullPolicy", "IfNotPresent");
    if (!List.of("IfNotPresent", "Always", "Never").contains(pullPolicy)) {
      throw new ConfigException(w.at("imagePullPolicy") + " must be IfNotPresent, Always or Never, got '" + pullPolicy + "'");
    }
    List<String> waypointMembers = w.has("members") ? w.strings("members")
        : List.of("capstan-controller." + namespace + ".svc:" + hzListen.getPort());
    if (waypointMembers.isEmpty()) {
      throw new ConfigException(w.at("members") + " must list at least one controller address (host:port)");
    }
    Waypoints waypoints = new Waypoints(deploy, w.string("image", "capstan/waypoint:latest"), pullPolicy, waypointMembers,
        w.duration("resync", Duration.ofMinutes(5)));
    return new ControllerConfig(name, trustDomain, namespace, src, hazelcast, leader, ca, addresses, waypoints);
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "capstan-controller";
    }
  }
}

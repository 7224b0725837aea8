package dev.capstan.nodeagent.state;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/** A mesh snapshot indexed for the lookups of the data path. Immutable but for round-robin cursors. */
public final class MeshIndex {

  /** A service port resolved to one endpoint. */
  public record Target(Workload workload, InetSocketAddress address, Optional<Service> service) {}

  private final MeshSnapshot snapshot;
  private final Map<InetAddress, Workload> workloadsByIp;
  private final Map<String, Workload> workloadsByUid = new HashMap<>();
  /** The address each workload's endpoints are dialed at, parsed once per config rather than once per connection. */
  private final Map<String, InetAddress> primaryIps = new HashMap<>();
  private final Map<InetSocketAddress, Service> servicesByVip = new HashMap<>();
  private final Map<String, Service> servicesByKey = new HashMap<>();
  private final Map<String, List<AuthorizationPolicy>> policiesByNamespace = new HashMap<>();
  private final Map<String, AtomicInteger> cursors = new HashMap<>();
  /** For each workload behind a service with a waypoint: the uids of that waypoint's pods. */
  private final Map<String, Set<String>> waypointPods = new HashMap<>();

  public MeshIndex(MeshSnapshot snapshot) {
    this(snapshot, parse(snapshot.workloads()));
  }

  /**
   * An index over workloads already keyed by their parsed addresses (the Hazelcast view keeps its
   * state that way), so a rebuild parses no address. The index takes {@code workloadsByIp} as is:
   * the caller must never change that map afterwards. {@code workloads} lists each workload once.
   */
  public static MeshIndex of(String version, Map<InetAddress, Workload> workloadsByIp, List<Workload> workloads,
      List<Service> services, List<AuthorizationPolicy> policies, Map<String, Integer> bufferWeights) {
    return new MeshIndex(new MeshSnapshot(version, workloads, services, policies, bufferWeights), workloadsByIp);
  }

  private static Map<InetAddress, Workload> parse(List<Workload> workloads) {
    Map<InetAddress, Workload> byIp = new HashMap<>();
    for (Workload w : workloads) {
      for (String ip : w.ips()) {
        Hbone.literalIp(ip).ifPresent(a -> byIp.put(a, w));
      }
    }
    return byIp;
  }

  private MeshIndex(MeshSnapshot snapshot, Map<InetAddress, Workload> byIp) {
    this.snapshot = snapshot;
    this.workloadsByIp = byIp;
    for (Map.Entry<InetAddress, Workload> e : byIp.entrySet()) {
      Workload w = e.getValue();
      workloadsByUid.put(w.uid(), w);
      // The address dialed for an endpoint: IPv4 when the workload has one.
      InetAddress had = primaryIps.get(w.uid());
      if (had == null || (had instanceof java.net.Inet6Address && e.getKey() instanceof java.net.Inet4Address)) {
        primaryIps.put(w.uid(), e.getKey());
      }
    }
    for (Service s : snapshot.services()) {
      servicesByKey.put(s.key(), s);
      cursors.put(s.key(), new AtomicInteger());
      for (String vip : s.vips()) {
        Optional<InetAddress> a = Hbone.literalIp(vip);
        for (ServicePort p : s.ports()) {
          a.ifPresent(ip -> servicesByVip.put(new InetSocketAddress(ip, p.port()), s));
        }
      }
    }
    for (AuthorizationPolicy p : snapshot.policies()) {
      policiesByNamespace.computeIfAbsent(p.namespace(), k -> new ArrayList<>()).add(p);
    }
    for (Service s : snapshot.services()) {
      Service waypoint = s.waypoint() == null ? null : servicesByKey.get(s.waypoint());
      if (waypoint == null) {
        continue;
      }
      for (Endpoint e : s.endpoints()) {
        Set<String> pods = waypointPods.computeIfAbsent(e.workloadUid(), k -> new HashSet<>());
        waypoint.endpoints().forEach(w -> pods.add(w.workloadUid()));
      }
    }
  }

  /**
   * Whether {@code peer}, connecting from {@code peerIp}, is a pod of a waypoint that serves
   * {@code destination} (a waypoint of a service the destination backs): its identity and its own
   * address both. Only such a peer's {@code Forwarded} is taken as the original client.
   */
  public boolean isWaypointOf(Workload destination, SpiffeId peer, InetAddress peerIp, String trustDomain) {
    Workload at = workloadsByIp.get(peerIp);
    return at != null
        && waypointPods.getOrDefault(destination.uid(), Set.of()).contains(at.uid())
        && identity(trustDomain, at).equals(peer);
  }

  public static MeshIndex empty() {
    return new MeshIndex(MeshSnapshot.empty());
  }

  public MeshSnapshot snapshot() {
    return snapshot;
  }

  public String version() {
    return snapshot.version();
  }

  /**
   * The enrolled workload at {@code ip}: a connection's source or destination this agent may
   * carry. A waypoint's pods are known ({@link #pick} reaches them as their Service's endpoints,
   * {@link #isWaypointOf} recognises them) but are not enrolled ({@link Workload#captured()}):
   * never a source, a local destination, nor an identity this agent holds.
   */
  public Optional<Workload> workloadByIp(InetAddress ip) {
    Workload w = workloadsByIp.get(ip);
    return w != null && w.captured() ? Optional.of(w) : Optional.empty();
  }

  /** The enrolled workload at {@code ip} if it runs on {@code node}. */
  public Optional<Workload> localWorkload(InetAddress ip, String node) {
    return workloadByIp(ip).filter(w -> w.node().equals(node));
  }

  public Optional<Service> serviceByVip(InetSocketAddress vipAndPort) {
    return Optional.ofNullable(servicesByVip.get(vipAndPort));
  }

  public Optional<Service> service(String namespaceSlashName) {
    return Optional.ofNullable(servicesByKey.get(namespaceSlashName));
  }

  public List<AuthorizationPolicy> policies(String namespace) {
    return policiesByNamespace.getOrDefault(namespace, List.of());
  }

  /** The enrolled workloads hosted on {@code node} (a waypoint's pods are not). */
  public List<Workload> workloadsOn(String node) {
    return snapshot.workloads().stream().filter(w -> w.node().equals(node) && w.captured()).toList();
  }

  /** The SPIFFE identity of a workload. */
  public static SpiffeId identity(String trustDomain, Workload w) {
    return SpiffeId.of(trustDomain, w.namespace(), w.serviceAccount());
  }

  /**
   * Picks the next healthy endpoint of a service port, round robin. Empty when the service does
   * not expose the port or has no healthy endpoint with an address.
   */
  public Optional<Target> pick(Service service, int port) {
    Optional<ServicePort> sp = service.port(port);
    if (sp.isEmpty()) {
      return Optional.empty();
    }
    List<Endpoint> endpoints = service.endpoints();
    int n = endpoints.size();
    if (n == 0) {
      return Optional.empty();
    }
    int start = Math.floorMod(cursors.get(service.key()).getAndIncrement(), n);
    for (int i = 0; i < n; i++) {
      Endpoint e = endpoints.get((start + i) % n);
      Workload w = workloadsByUid.get(e.workloadUid());
      InetAddress ip = primaryIps.get(e.workloadUid());
      if (e.healthy() && w != null && ip != null) {
        return Optional.of(new Target(w, new InetSocketAddress(ip, sp.get().targetPort()), Optional.of(service)));
      }
    }
    return Optional.empty();
  }
}

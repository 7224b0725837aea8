package dev.capstan.benchmarks;

import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.state.MeshIndex;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A Kubernetes-shaped mesh: deployments of equal size, one Service each, spread over namespaces
 * and nodes. Pods look like real ones (UUID uid, {@code <deployment>-<rs hash>-<suffix>} name,
 * {@code app}/{@code pod-template-hash}/{@code version} labels, one IPv4 from their node's pod
 * CIDR), so strings and maps have realistic sizes. Deterministic for a seed.
 *
 * <p>{@link #next(int)} applies one change of the propagation mix and says how to recognise it in
 * an agent's {@link MeshIndex}.
 */
final class SyntheticCluster {

  /** One change and how an index that contains it looks. */
  record Change(String kind, MeshSnapshot snapshot, Predicate<MeshIndex> visible) {}

  private static final int NAMESPACES = 50;
  private static final String[] KINDS = {"relabel", "health", "add", "remove"};

  private final Random random;
  private final int nodes;
  private final int podsPerDeployment;
  private final List<String> deployments = new ArrayList<>();
  private final Map<String, String> templateHashes = new HashMap<>();
  /** Pods by uid, in creation order. */
  private final Map<String, Workload> pods = new LinkedHashMap<>();
  /** Services by deployment name. */
  private final Map<String, Service> services = new LinkedHashMap<>();
  private final int[] nextHost;
  private int version;
  private int changes;

  SyntheticCluster(long seed, int workloads, int services, int nodes) {
    if (services <= 0 || workloads % services != 0) {
      throw new IllegalArgumentException("workloads (" + workloads + ") must be a multiple of services (" + services + ")");
    }
    this.random = new Random(seed);
    this.nodes = nodes;
    this.podsPerDeployment = workloads / services;
    this.nextHost = new int[nodes];
    grow(workloads);
  }

  /** Adds deployments (and their pods and Services) until the cluster has {@code workloads} pods. */
  void grow(int workloads) {
    while (pods.size() < workloads) {
      String deployment = String.format("app-%04d", deployments.size());
      String namespace = String.format("team-%02d", deployments.size() % NAMESPACES);
      deployments.add(deployment);
      templateHashes.put(deployment, hex(10));
      List<Endpoint> endpoints = new ArrayList<>();
      for (int i = 0; i < podsPerDeployment; i++) {
        Workload pod = newPod(deployment, namespace);
        pods.put(pod.uid(), pod);
        endpoints.add(new Endpoint(pod.uid(), true));
      }
      int s = services.size();
      services.put(deployment, new Service(namespace, deployment, List.of("10.96." + (s >> 8 & 255) + "." + (s & 255)),
          List.of(new ServicePort("http", 80, 8080)), endpoints));
    }
  }

  int workloads() {
    return pods.size();
  }

  /** The whole mesh now, with a new version string. */
  MeshSnapshot snapshot() {
    List<AuthorizationPolicy> policies = new ArrayList<>();
    for (int n = 0; n < NAMESPACES; n++) {
      String ns = String.format("team-%02d", n);
      policies.add(new AuthorizationPolicy(ns, "allow-same-namespace", Map.of(), PolicyAction.ALLOW,
          List.of(new PolicyRule(List.of(), List.of(ns), List.of(8080)))));
    }
    return new MeshSnapshot("v" + (++version), List.copyOf(pods.values()), List.copyOf(services.values()), policies);
  }

  /** Applies the next change of the mix (relabel, flip health, add a pod, remove a pod, in turn). */
  Change next() {
    int i = changes++;
    String kind = KINDS[i % KINDS.length];
    Predicate<MeshIndex> visible;
    switch (kind) {
      case "relabel" -> {
        Workload w = randomPod();
        String rev = "r" + i;
        Map<String, String> labels = new HashMap<>(w.labels());
        labels.put("rollout", rev);
        pods.put(w.uid(), new Workload(w.uid(), w.name(), w.namespace(), w.serviceAccount(), w.ips(), w.node(), labels,
            w.waypoint()));
        InetAddress ip = address(w.ips().get(0));
        visible = index -> index.workloadByIp(ip).map(x -> rev.equals(x.labels().get("rollout"))).orElse(false);
      }
      case "health" -> {
        Service s = randomService();
        int e = random.nextInt(s.endpoints().size());
        Endpoint flipped = new Endpoint(s.endpoints().get(e).workloadUid(), !s.endpoints().get(e).healthy());
        List<Endpoint> endpoints = new ArrayList<>(s.endpoints());
        endpoints.set(e, flipped);
        services.put(s.name(), with(s, endpoints));
        visible = index -> index.service(s.key()).map(x -> x.endpoints().contains(flipped)).orElse(false);
      }
      case "add" -> {
        Service s = randomService();
        Workload pod = newPod(s.name(), s.namespace());
        pods.put(pod.uid(), pod);
        List<Endpoint> endpoints = new ArrayList<>(s.endpoints());
        endpoints.add(new Endpoint(pod.uid(), true));
        services.put(s.name(), with(s, endpoints));
        InetAddress ip = address(pod.ips().get(0));
        visible = index -> index.workloadByIp(ip).isPresent()
            && index.service(s.key()).map(x -> hasEndpoint(x, pod.uid())).orElse(false);
      }
      default -> {
        Service s = randomServiceWithPods(2);
        Endpoint gone = s.endpoints().get(random.nextInt(s.endpoints().size()));
        Workload pod = pods.remove(gone.workloadUid());
        List<Endpoint> endpoints = new ArrayList<>(s.endpoints());
        endpoints.remove(gone);
        services.put(s.name(), with(s, endpoints));
        InetAddress ip = address(pod.ips().get(0));
        visible = index -> index.workloadByIp(ip).isEmpty()
            && index.service(s.key()).map(x -> !hasEndpoint(x, gone.workloadUid())).orElse(false);
      }
    }
    return new Change(kind, snapshot(), visible);
  }

  private Workload newPod(String deployment, String namespace) {
    int node = random.nextInt(nodes);
    int host = nextHost[node]++;
    String ip = "10." + (244 + host / 250) + "." + node + "." + (host % 250 + 2);
    Map<String, String> labels = Map.of("app", deployment, "pod-template-hash", templateHashes.get(deployment),
        "version", "v1");
    return new Workload(new UUID(random.nextLong(), random.nextLong()).toString(),
        deployment + "-" + templateHashes.get(deployment) + "-" + alnum(5), namespace, deployment, List.of(ip),
        String.format("worker-%02d", node), labels, null);
  }

  private Workload randomPod() {
    List<Workload> all = new ArrayList<>(pods.values());
    return all.get(random.nextInt(all.size()));
  }

  private Service randomService() {
    return services.get(deployments.get(random.nextInt(deployments.size())));
  }

  private Service randomServiceWithPods(int atLeast) {
    Service s = randomService();
    while (s.endpoints().size() < atLeast) {
      s = randomService();
    }
    return s;
  }

  private static Service with(Service s, List<Endpoint> endpoints) {
    return new Service(s.namespace(), s.name(), s.vips(), s.ports(), endpoints);
  }

  private static boolean hasEndpoint(Service s, String uid) {
    for (Endpoint e : s.endpoints()) {
      if (e.workloadUid().equals(uid)) {
        return true;
      }
    }
    return false;
  }

  static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal); // an IP literal: no lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  private String hex(int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(Character.forDigit(random.nextInt(16), 16));
    }
    return b.toString();
  }

  private String alnum(int n) {
    String chars = "bcdfghjklmnpqrstvwxz2456789"; // Kubernetes' safe alphabet
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(random.nextInt(chars.length())));
    }
    return b.toString();
  }
}

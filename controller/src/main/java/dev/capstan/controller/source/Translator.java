package dev.capstan.controller.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.gateway.Routes;
import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.Waypoint;
import dev.capstan.core.model.Workload;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The pure function from Kubernetes objects to the mesh model. The rules (enrollment, which pods
 * are workloads, endpoints from EndpointSlices or selectors, policies) are written down in {@code
 * docs/controller-sources.md}. Output is sorted, and the snapshot's version is a hash of its
 * content, so equal inputs give equal snapshots.
 */
public final class Translator {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Translator.class);

  /** Namespace label that enrolls a namespace ({@code enabled}); pod label that opts a pod out ({@code disabled}). */
  public static final String MESH_LABEL = "capstan.dev/mesh";
  public static final String MESH_ENABLED = "enabled";
  public static final String MESH_DISABLED = "disabled";
  /** The label that ties an EndpointSlice to its Service. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  /** The service account of a pod that names none. */
  public static final String DEFAULT_SERVICE_ACCOUNT = "default";

  private static final int VERSION_HEX_CHARS = 12;
  private static final ObjectMapper CANONICAL = JsonMapper.builder()
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
      .build();

  /**
   * Which pod keeps an IP that two pods claim (a stale status after the IP was reused): the one
   * not terminating, then the newest, then by uid. The data path needs one workload per IP.
   */
  private static final Comparator<Pod> IP_PREFERENCE = Comparator
      .comparing((Pod p) -> p.getMetadata() != null && p.getMetadata().getDeletionTimestamp() != null)
      .thenComparing((Pod p) -> p.getMetadata() == null ? "" : nullToEmpty(p.getMetadata().getCreationTimestamp()),
          Comparator.reverseOrder())
      .thenComparing((Pod p) -> p.getMetadata() == null ? "" : nullToEmpty(p.getMetadata().getUid()));

  private Translator() {}

  /** The mesh those objects describe, with a content hash as its version. */
  public static MeshSnapshot translate(Resources resources) {
    Set<String> enrolled = enrolledNamespaces(resources.namespaces());

    Map<String, Pod> workloadPods = new HashMap<>();
    Map<String, Workload> workloadsByKey = new HashMap<>();
    Set<String> claimedIps = new HashSet<>();
    List<Pod> byPreference = resources.pods().stream().sorted(IP_PREFERENCE).toList();
    for (Pod pod : byPreference) {
      workload(pod, enrolled).flatMap(w -> withUnclaimedIps(w, claimedIps)).ifPresent(w -> {
        workloadsByKey.put(key(w.namespace(), w.name()), w);
        workloadPods.put(key(w.namespace(), w.name()), pod);
      });
    }
    List<Workload> workloads = workloadsByKey.values().stream()
        .sorted(Comparator.comparing(Workload::namespace).thenComparing(Workload::name).thenComparing(Workload::uid))
        .toList();

    Map<String, List<EndpointSlice>> slicesByService = new HashMap<>();
    for (EndpointSlice slice : resources.endpointSlices()) {
      String service = label(slice.getMetadata(), SERVICE_NAME_LABEL);
      String namespace = namespaceOf(slice);
      if (service != null && namespace != null && enrolled.contains(namespace)) {
        slicesByService.computeIfAbsent(key(namespace, service), k -> new ArrayList<>()).add(slice);
      }
    }
    slicesByService.values().forEach(l -> l.sort(Comparator.comparing(s -> nullToEmpty(s.getMetadata().getName()))));

    List<Waypoint> waypoints = waypoints(resources.waypoints(), enrolled);
    Map<String, Waypoint> waypointsByKey = waypoints.stream().collect(Collectors.toMap(Waypoint::key, w -> w));
    Set<String> serviceKeys = resources.services().stream()
        .filter(svc -> svc.getMetadata() != null && svc.getMetadata().getName() != null && enrolled.contains(namespaceOf(svc)))
        .filter(svc -> svc.getSpec() != null && !"ExternalName".equals(svc.getSpec().getType()))
        .map(svc -> key(namespaceOf(svc), svc.getMetadata().getName()))
        .collect(Collectors.toSet());
    WaypointUse use = new WaypointUse(waypointsByKey, serviceKeys);
    Map<String, String> namespaceWaypoints = namespaceWaypoints(resources.namespaces(), enrolled);
    List<Service> services = new ArrayList<>();
    for (io.fabric8.kubernetes.api.model.Service svc : resources.services()) {
      String namespace = namespaceOf(svc);
      if (namespace == null || !enrolled.contains(namespace) || svc.getMetadata().getName() == null) {
        continue;
      }
      String waypoint = use.resolve(svc, namespaceWaypoints.get(namespace));
      service(svc, slicesByService.getOrDefault(key(namespace, svc.getMetadata().getName()), List.of()),
          workloadsByKey, workloadPods)
          .map(s -> waypoint == null ? s : new Service(s.namespace(), s.name(), s.vips(), s.ports(), s.endpoints(), waypoint))
          .ifPresent(services::add);
    }
    use.warn();
    services.sort(Comparator.comparing(Service::namespace).thenComparing(Service::name));

    List<AuthorizationPolicy> policies = resources.authorizationPolicies().stream()
        .filter(p -> p.getMetadata() != null && p.getMetadata().getName() != null)
        .filter(p -> enrolled.contains(namespaceOf(p)))
        .map(Translator::policy)
        .flatMap(Optional::stream)
        .sorted(Comparator.comparing(AuthorizationPolicy::namespace).thenComparing(AuthorizationPolicy::name))
        .toList();
    List<TrafficPolicy> trafficPolicies = TrafficPolicyTranslator.translate(resources.trafficPolicies(), enrolled);

    Map<String, Integer> weights = bufferWeights(resources.namespaces(), enrolled);
    List<RouteManifest> routes = routes(resources.routes(), enrolled);
    MeshSnapshot unversioned = new MeshSnapshot("", workloads, services, policies, weights, trafficPolicies, waypoints,
        routes);
    return new MeshSnapshot(version(unversioned), workloads, services, policies, weights, trafficPolicies, waypoints,
        routes);
  }

  /** The workload without the IPs a preferred pod already holds (claiming the rest), or empty if none is left. */
  private static Optional<Workload> withUnclaimedIps(Workload w, Set<String> claimedIps) {
    List<String> free = w.ips().stream()
        .filter(ip -> !claimedIps.contains(canonicalIp(ip)))
        .toList();
    free.forEach(ip -> claimedIps.add(canonicalIp(ip)));
    return free.isEmpty() ? Optional.empty() : Optional.of(free.size() == w.ips().size() ? w
        : new Workload(w.uid(), w.name(), w.namespace(), w.serviceAccount(), free, w.node(), w.labels(), w.waypoint()));
  }

  /** The textual form an IP compares by (IPv6 has many spellings). */
  static String canonicalIp(String ip) {
    return Hbone.literalIp(ip).map(a -> a.getHostAddress()).orElse(ip);
  }

  /**
   * Label on a Service or its Namespace naming the waypoint (in the same namespace) that carries the
   * service's traffic; on a Service, {@value #NO_WAYPOINT} opts it out of its namespace's waypoint.
   */
  static final String USE_WAYPOINT_LABEL = "capstan.dev/use-waypoint";

  /** The value of {@link #USE_WAYPOINT_LABEL} that means "no waypoint". */
  static final String NO_WAYPOINT = "none";

  private static final java.util.regex.Pattern DNS_LABEL = java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** The waypoint name each enrolled namespace's label gives its services. */
  static Map<String, String> namespaceWaypoints(List<Namespace> namespaces, Set<String> enrolled) {
    Map<String, String> waypoints = new HashMap<>();
    for (Namespace n : namespaces) {
      String name = n.getMetadata() == null ? null : n.getMetadata().getName();
      String value = name == null || !enrolled.contains(name) ? null : label(n.getMetadata(), USE_WAYPOINT_LABEL);
      if (value != null && !NO_WAYPOINT.equals(value) && validWaypoint("namespace " + name, value)) {
        waypoints.put(name, value);
      }
    }
    return waypoints;
  }

  /**
   * Which waypoint each service uses, as its labels name it, resolved through the Waypoint
   * resources: the service's own label, else its namespace's; {@code none} on the service opts
   * out; a value that is not a DNS label is ignored with a warning. The named waypoint must be
   * declared in the namespace, carry service traffic, and have its Service; otherwise the service
   * gets no waypoint (its traffic goes straight to its endpoints, as Istio's does with a waypoint
   * that is not ready) and one warning per waypoint and reason names the services. A waypoint's
   * own Service never uses a waypoint.
   */
  static final class WaypointUse {
    private final Map<String, Waypoint> waypoints;
    private final Set<String> serviceKeys;
    /** Warning → the services it concerns, logged once per translation. */
    private final Map<String, List<String>> unresolved = new TreeMap<>();

    WaypointUse(Map<String, Waypoint> waypoints, Set<String> serviceKeys) {
      this.waypoints = waypoints;
      this.serviceKeys = serviceKeys;
    }

    /** {@code namespace/name} of the waypoint (its Service) that carries the service's traffic, or {@code null}. */
    String resolve(io.fabric8.kubernetes.api.model.Service svc, String namespaceWaypoint) {
      String namespace = svc.getMetadata().getNamespace();
      String name = svc.getMetadata().getName();
      if (waypoints.containsKey(key(namespace, name))) {
        return null; // a waypoint's own service is reached directly
      }
      String own = label(svc.getMetadata(), USE_WAYPOINT_LABEL);
      if (NO_WAYPOINT.equals(own)) {
        return null;
      }
      String chosen;
      String by;
      if (own != null && validWaypoint("service " + namespace + "/" + name, own)) {
        chosen = own;
        by = "its label";
      } else if (namespaceWaypoint != null) {
        chosen = namespaceWaypoint;
        by = "its namespace's label";
      } else {
        return null;
      }
      if (chosen.equals(name)) {
        return null; // the waypoint's own service is reached directly
      }
      String wanted = key(namespace, chosen);
      Waypoint waypoint = waypoints.get(wanted);
      if (waypoint == null) {
        return unresolved(wanted, by, "no Waypoint " + wanted + " is declared (in an enrolled namespace)", svc);
      }
      if (!waypoint.trafficType().carriesServices()) {
        return unresolved(wanted, by, "Waypoint " + wanted + " has trafficType " + waypoint.trafficType().value()
            + ": it carries no service traffic", svc);
      }
      if (!serviceKeys.contains(wanted)) {
        return unresolved(wanted, by, "the Service " + wanted + " of Waypoint " + wanted + " does not exist (yet)", svc);
      }
      return wanted;
    }

    private String unresolved(String waypoint, String by, String reason, io.fabric8.kubernetes.api.model.Service svc) {
      unresolved.computeIfAbsent(reason + " (named by " + by + ")", k -> new ArrayList<>())
          .add(svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName());
      return null;
    }

    /** One warning per waypoint and reason, naming the services that go without it. */
    void warn() {
      unresolved.forEach((reason, services) -> LOG.warn("waypoint not used: {}; service(s) {} get no waypoint and are reached"
          + " directly", reason, services.size() > 10 ? services.subList(0, 10) + " and " + (services.size() - 10) + " more"
          : services));
    }
  }

  /**
   * The Waypoint resources of enrolled namespaces. Defaults: 1 replica, trafficType {@code
   * service}, the service account named as the waypoint. One the CRD schema should have refused
   * (an unknown trafficType, replicas out of range) is left out with a warning.
   */
  static List<Waypoint> waypoints(List<WaypointResource> resources, Set<String> enrolled) {
    List<Waypoint> out = new ArrayList<>();
    for (WaypointResource r : resources) {
      if (r.getMetadata() == null || isBlank(r.getMetadata().getName()) || !enrolled.contains(namespaceOf(r))) {
        continue;
      }
      String namespace = r.getMetadata().getNamespace();
      String name = r.getMetadata().getName();
      Optional<String> problem = waypointProblem(r);
      if (problem.isPresent()) {
        LOG.warn("Waypoint {}/{} left out: {}", namespace, name, problem.get());
        continue;
      }
      WaypointSpec spec = r.getSpec() == null ? new WaypointSpec(null, null, null, null) : r.getSpec();
      Waypoint.TrafficType trafficType = spec.trafficType() == null ? Waypoint.TrafficType.SERVICE
          : Waypoint.TrafficType.of(spec.trafficType()).orElseThrow();
      int replicas = spec.replicas() == null ? 1 : spec.replicas();
      WaypointSpec.Resources res = spec.resources();
      Waypoint.Compute compute = res == null ? Waypoint.Compute.NONE
          : new Waypoint.Compute(withoutNulls(res.requests()), withoutNulls(res.limits()));
      String serviceAccount = isBlank(spec.serviceAccount()) ? name : spec.serviceAccount();
      out.add(new Waypoint(namespace, name, serviceAccount, replicas, compute, trafficType));
    }
    out.sort(Comparator.comparing(Waypoint::namespace).thenComparing(Waypoint::name));
    return out;
  }

  /**
   * What makes a Waypoint resource unusable, naming the field, or empty when it is valid: a name
   * that is not a DNS label (it also names the waypoint's Service), an unknown {@code
   * spec.trafficType}, {@code spec.replicas} out of range. The CRD schema refuses all of these;
   * one may still reach the controller (an older CRD, a schema bypassed). Such a Waypoint is left
   * out of the mesh, and its status says why ({@code Accepted=False}, reason {@code Invalid}).
   */
  public static Optional<String> waypointProblem(WaypointResource r) {
    String name = r.getMetadata() == null ? null : r.getMetadata().getName();
    WaypointSpec spec = r.getSpec() == null ? new WaypointSpec(null, null, null, null) : r.getSpec();
    List<String> problems = new ArrayList<>();
    if (name == null || !DNS_LABEL.matcher(name).matches()) {
      problems.add("metadata.name: '" + name + "' is not a DNS label (it also names the waypoint's Service)");
    }
    if (spec.trafficType() != null && Waypoint.TrafficType.of(spec.trafficType()).isEmpty()) {
      String shown = spec.trafficType().length() > 40 ? spec.trafficType().substring(0, 40) + "…" : spec.trafficType();
      problems.add("spec.trafficType: '" + shown + "' is not one of service, workload, all, none");
    }
    if (spec.replicas() != null && (spec.replicas() < 0 || spec.replicas() > WaypointSpec.MAX_REPLICAS)) {
      problems.add("spec.replicas: " + spec.replicas() + " is not between 0 and " + WaypointSpec.MAX_REPLICAS);
    }
    return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
  }

  /**
   * The HTTPRoutes and GRPCRoutes of enrolled namespaces that the waypoints can act on, each
   * checked by the waypoint's own parser on its canonical manifest. A route the waypoint cannot
   * act on (an unsupported filter, a parent Service in another namespace, ...) is left out with a
   * warning naming the field; the others go on. A route attached to no Service (a Gateway's) is
   * not the mesh's and is left out silently.
   */
  static List<RouteManifest> routes(List<GenericKubernetesResource> resources, Set<String> enrolled) {
    List<RouteManifest> out = new ArrayList<>();
    for (GenericKubernetesResource r : resources) {
      if (r.getMetadata() == null || isBlank(r.getMetadata().getName()) || !enrolled.contains(namespaceOf(r))) {
        continue;
      }
      String kind = r.getKind();
      if (!RouteManifest.HTTP_ROUTE.equals(kind) && !RouteManifest.GRPC_ROUTE.equals(kind)) {
        continue;
      }
      String namespace = r.getMetadata().getNamespace();
      String name = r.getMetadata().getName();
      String where = kind + " " + namespace + "/" + name;
      try {
        String manifest = canonicalManifest(r);
        HttpRoute route = Routes.parse(kind, manifest, where);
        if (route.parents().isEmpty()) {
          LOG.debug("{} is attached to no Service: not a mesh route", where);
          continue;
        }
        for (HttpRoute.ParentRef parent : route.parents()) {
          if (!parent.service().startsWith(namespace + "/")) {
            throw new ConfigException(where + ": spec.parentRefs: Service " + parent.service() + " is in another namespace;"
                + " only routes in the Service's own namespace (producer routes) are supported");
          }
        }
        out.add(new RouteManifest(kind, namespace, name, manifest));
      } catch (ConfigException e) {
        LOG.warn("route left out, the waypoint cannot act on it: {}", e.getMessage());
      }
    }
    out.sort(Comparator.comparing(RouteManifest::kind).thenComparing(RouteManifest::namespace)
        .thenComparing(RouteManifest::name));
    return out;
  }

  /**
   * A route as the waypoints read it: {@code apiVersion}, {@code kind}, {@code metadata} (name,
   * namespace, creationTimestamp) and {@code spec}, as JSON with sorted keys. Status, managed
   * fields and resource versions are left out, so the mesh version changes only with the route.
   */
  static String canonicalManifest(GenericKubernetesResource r) {
    Map<String, Object> metadata = new TreeMap<>();
    metadata.put("name", r.getMetadata().getName());
    metadata.put("namespace", r.getMetadata().getNamespace());
    if (r.getMetadata().getCreationTimestamp() != null) {
      metadata.put("creationTimestamp", r.getMetadata().getCreationTimestamp());
    }
    Map<String, Object> manifest = new TreeMap<>();
    manifest.put("apiVersion", r.getApiVersion());
    manifest.put("kind", r.getKind());
    manifest.put("metadata", metadata);
    Object spec = r.getAdditionalProperties().get("spec");
    manifest.put("spec", spec == null ? Map.of() : spec);
    try {
      return CANONICAL.writeValueAsString(manifest);
    } catch (JsonProcessingException e) {
      throw new ConfigException(r.getKind() + " " + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName()
          + ": cannot be written as JSON: " + e.getOriginalMessage());
    }
  }

  private static boolean validWaypoint(String owner, String value) {
    if (DNS_LABEL.matcher(value).matches()) {
      return true;
    }
    LOG.warn("{}: label {}='{}' ignored: it must name a waypoint in the same namespace (a DNS label)",
        owner, USE_WAYPOINT_LABEL, value.length() > 80 ? value.substring(0, 80) + "…" : value);
    return false;
  }

  /** Namespace annotation: the namespace's weight in the node agents' buffer budget, 1 to 100. */
  static final String BUFFER_WEIGHT_ANNOTATION = "capstan.dev/buffer-weight";

  /**
   * Buffer weights of the enrolled namespaces that set one other than 1. A value that is not an
   * integer from 1 to 100 is ignored (weight 1) with a warning naming the namespace.
   */
  static Map<String, Integer> bufferWeights(List<Namespace> namespaces, Set<String> enrolled) {
    Map<String, Integer> weights = new java.util.TreeMap<>();
    for (Namespace n : namespaces) {
      if (n.getMetadata() == null || !enrolled.contains(n.getMetadata().getName())
          || n.getMetadata().getAnnotations() == null) {
        continue;
      }
      String value = n.getMetadata().getAnnotations().get(BUFFER_WEIGHT_ANNOTATION);
      if (value == null) {
        continue;
      }
      int weight;
      try {
        weight = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        weight = 0;
      }
      if (weight < 1 || weight > 100) {
        LOG.warn("namespace {}: annotation {}='{}' ignored: it must be an integer from 1 to 100", n.getMetadata().getName(),
            BUFFER_WEIGHT_ANNOTATION, value);
      } else if (weight != 1) {
        weights.put(n.getMetadata().getName(), weight);
      }
    }
    return weights;
  }

  /** The names of the enrolled namespaces (label {@code capstan.dev/mesh=enabled}). */
  static Set<String> enrolledNamespaces(List<Namespace> namespaces) {
    return namespaces.stream()
        .filter(n -> n.getMetadata() != null && n.getMetadata().getName() != null)
        .filter(n -> MESH_ENABLED.equals(label(n.getMetadata(), MESH_LABEL)))
        .map(n -> n.getMetadata().getName())
        .collect(Collectors.toUnmodifiableSet());
  }

  /** The workload a pod is, if it is one. */
  static Optional<Workload> workload(Pod pod, Set<String> enrolledNamespaces) {
    if (exclusion(pod, enrolledNamespaces).isPresent()) {
      return Optional.empty();
    }
    ObjectMeta meta = pod.getMetadata();
    PodSpec spec = pod.getSpec();
    String serviceAccount = firstNonBlank(spec.getServiceAccountName(), spec.getServiceAccount(), DEFAULT_SERVICE_ACCOUNT);
    return Optional.of(new Workload(meta.getUid(), meta.getName(), meta.getNamespace(), serviceAccount,
        podIps(pod.getStatus()), spec.getNodeName(), withoutNulls(meta.getLabels()), null));
  }

  /** Why a pod is not a workload, or empty when it is one. */
  static Optional<String> exclusion(Pod pod, Set<String> enrolledNamespaces) {
    ObjectMeta meta = pod.getMetadata();
    if (meta == null || isBlank(meta.getName()) || isBlank(meta.getUid())) {
      return Optional.of("no name or uid");
    }
    if (!enrolledNamespaces.contains(meta.getNamespace())) {
      return Optional.of("namespace not enrolled");
    }
    if (MESH_DISABLED.equals(label(meta, MESH_LABEL))) {
      return Optional.of("opted out");
    }
    PodSpec spec = pod.getSpec();
    if (spec == null || isBlank(spec.getNodeName())) {
      return Optional.of("not scheduled");
    }
    if (Boolean.TRUE.equals(spec.getHostNetwork())) {
      return Optional.of("host network");
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"Running".equals(phase) && !"Pending".equals(phase)) {
      return Optional.of("phase " + phase);
    }
    if (podIps(pod.getStatus()).isEmpty()) {
      return Optional.of("no IP");
    }
    return Optional.empty();
  }

  /** The pod's IPs, primary first: {@code status.podIPs}, else {@code status.podIP}; literal IPs only. */
  static List<String> podIps(PodStatus status) {
    if (status == null) {
      return List.of();
    }
    Set<String> ips = new LinkedHashSet<>();
    if (status.getPodIPs() != null) {
      status.getPodIPs().stream().filter(Objects::nonNull).map(PodIP::getIp).forEach(ips::add);
    }
    if (ips.isEmpty()) {
      ips.add(status.getPodIP());
    }
    return ips.stream().filter(ip -> Hbone.literalIp(ip).isPresent()).toList();
  }

  private static Optional<Service> service(
      io.fabric8.kubernetes.api.model.Service svc,
      List<EndpointSlice> slices,
      Map<String, Workload> workloadsByKey,
      Map<String, Pod> workloadPods) {
    ServiceSpec spec = svc.getSpec();
    if (spec == null || "ExternalName".equals(spec.getType())) {
      return Optional.empty();
    }
    String namespace = svc.getMetadata().getNamespace();
    Map<String, String> selector = withoutNulls(spec.getSelector());
    List<Pod> selectedPods = selector.isEmpty() ? List.of() : workloadsByKey.values().stream()
        .filter(w -> w.namespace().equals(namespace) && selects(selector, w.labels()))
        .sorted(Comparator.comparing(Workload::name))
        .map(w -> workloadPods.get(key(w.namespace(), w.name())))
        .toList();

    List<ServicePort> ports = new ArrayList<>();
    if (spec.getPorts() != null) {
      for (io.fabric8.kubernetes.api.model.ServicePort p : spec.getPorts()) {
        if (p == null || p.getPort() == null || !isTcp(p.getProtocol())) {
          continue;
        }
        OptionalInt target = targetPort(p, slices, selectedPods);
        if (target.isPresent() && validPort(p.getPort()) && validPort(target.getAsInt())) {
          ports.add(new ServicePort(p.getName(), p.getPort(), target.getAsInt()));
        }
      }
    }
    ports.sort(Comparator.comparingInt(ServicePort::port).thenComparing(ServicePort::name));

    List<Endpoint> endpoints;
    if (!slices.isEmpty()) {
      endpoints = sliceEndpoints(namespace, slices, workloadsByKey);
    } else {
      endpoints = selectedPods.stream()
          .map(pod -> new Endpoint(pod.getMetadata().getUid(), pod.getMetadata().getDeletionTimestamp() == null))
          .sorted(Comparator.comparing(Endpoint::workloadUid))
          .toList();
    }
    return Optional.of(new Service(namespace, svc.getMetadata().getName(), vips(spec), ports, endpoints));
  }

  /** ClusterIPs (dual stack: {@code clusterIPs}, else {@code clusterIP}); none for headless services. */
  private static List<String> vips(ServiceSpec spec) {
    List<String> candidates = spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty()
        ? spec.getClusterIPs()
        : spec.getClusterIP() == null ? List.of() : List.of(spec.getClusterIP());
    return candidates.stream()
        .filter(ip -> ip != null && !"None".equals(ip) && Hbone.literalIp(ip).isPresent())
        .distinct()
        .toList();
  }

  /**
   * The port the endpoints listen on: a numeric {@code targetPort}; for a named one, the port of
   * the same service-port name in the EndpointSlices (where Kubernetes resolved it), else the
   * container port of that name on the selected workloads; absent target means the service port.
   */
  private static OptionalInt targetPort(
      io.fabric8.kubernetes.api.model.ServicePort port, List<EndpointSlice> slices, List<Pod> selectedPods) {
    IntOrString target = port.getTargetPort();
    if (target == null || (target.getIntVal() == null && target.getStrVal() == null)) {
      return OptionalInt.of(port.getPort());
    }
    if (target.getIntVal() != null) {
      return OptionalInt.of(target.getIntVal());
    }
    String portName = nullToEmpty(port.getName());
    for (EndpointSlice slice : slices) {
      if (slice.getPorts() == null) {
        continue;
      }
      for (EndpointPort p : slice.getPorts()) {
        if (p != null && p.getPort() != null && portName.equals(nullToEmpty(p.getName())) && isTcp(p.getProtocol())) {
          return OptionalInt.of(p.getPort());
        }
      }
    }
    String named = target.getStrVal();
    for (Pod pod : selectedPods) {
      for (Container c : pod.getSpec().getContainers() == null ? List.<Container>of() : pod.getSpec().getContainers()) {
        for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
          if (cp != null && named.equals(cp.getName()) && cp.getContainerPort() != null && isTcp(cp.getProtocol())) {
            return OptionalInt.of(cp.getContainerPort());
          }
        }
      }
    }
    return OptionalInt.empty();
  }

  /**
   * Endpoints of the slices whose target is a pod that is a workload (same name, and same uid when
   * the reference names one). Ready is the {@code ready} condition, absent meaning ready; a pod in
   * several slices (dual stack) is ready when any slice says so.
   */
  private static List<Endpoint> sliceEndpoints(
      String namespace, List<EndpointSlice> slices, Map<String, Workload> workloadsByKey) {
    Map<String, Boolean> healthyByUid = new TreeMap<>();
    for (EndpointSlice slice : slices) {
      if (slice.getEndpoints() == null) {
        continue;
      }
      for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint e : slice.getEndpoints()) {
        ObjectReference ref = e == null ? null : e.getTargetRef();
        if (ref == null || !"Pod".equals(ref.getKind()) || ref.getName() == null) {
          continue;
        }
        String refNamespace = ref.getNamespace() == null ? namespace : ref.getNamespace();
        Workload w = workloadsByKey.get(key(refNamespace, ref.getName()));
        if (w == null || (ref.getUid() != null && !ref.getUid().equals(w.uid()))) {
          continue;
        }
        boolean ready = e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady());
        healthyByUid.merge(w.uid(), ready, Boolean::logicalOr);
      }
    }
    return healthyByUid.entrySet().stream().map(en -> new Endpoint(en.getKey(), en.getValue())).toList();
  }

  /**
   * The model of a policy resource. The CRD schema rejects invalid values; should one reach us
   * anyway, the result fails closed: an ALLOW rule with an invalid value is dropped (it allows
   * nothing), a DENY rule loses the invalid value (it denies more), an unknown action denies all.
   *
   * <p>With {@code targetRefs} the policy is the waypoint's (its selector, if any, is ignored with
   * a WARN); refs that are not Services are dropped with a WARN, and a policy left with none is
   * left out (it names nothing Capstan enforces). A selector-bound policy with L7 fields (paths,
   * methods, headers) is kept for the node agents, which enforce it at L4 only — an ALLOW rule
   * with L7 fields never matches, a DENY rule with L7 fields matches on its L4 fields — and a
   * WARN names it.
   */
  static Optional<AuthorizationPolicy> policy(AuthorizationPolicyResource resource) {
    AuthorizationPolicySpec spec = resource.getSpec() == null
        ? new AuthorizationPolicySpec(null, null, null)
        : resource.getSpec();
    Map<String, String> selector = spec.selector() == null ? Map.of() : withoutNulls(spec.selector().matchLabels());
    String namespace = resource.getMetadata().getNamespace();
    String name = resource.getMetadata().getName();
    PolicyAction action;
    if (spec.action() == null || "ALLOW".equals(spec.action())) {
      action = PolicyAction.ALLOW;
    } else if ("DENY".equals(spec.action())) {
      action = PolicyAction.DENY;
    } else {
      return Optional.of(new AuthorizationPolicy(namespace, name, selector, PolicyAction.DENY,
          List.of(new PolicyRule(List.of(), List.of(), List.of())), targets(spec, namespace, name)));
    }
    List<String> targets = targets(spec, namespace, name);
    if (spec.targetRefs() != null && !spec.targetRefs().isEmpty() && targets.isEmpty()) {
      LOG.warn("AuthorizationPolicy {}/{}: none of its targetRefs is a Service; the policy is left out", namespace, name);
      return Optional.empty();
    }
    if (!targets.isEmpty() && !selector.isEmpty()) {
      LOG.warn("AuthorizationPolicy {}/{}: selector ignored: a policy with targetRefs is enforced by the waypoint of "
          + "those services", namespace, name);
      selector = Map.of();
    }
    List<PolicyRule> rules = new ArrayList<>();
    for (AuthorizationPolicySpec.Rule rule : spec.rules() == null ? List.<AuthorizationPolicySpec.Rule>of() : spec.rules()) {
      AuthorizationPolicySpec.Rule r = rule == null ? new AuthorizationPolicySpec.Rule(null, null, null) : rule;
      List<String> principals = orEmpty(r.principals());
      List<String> namespaces = orEmpty(r.namespaces());
      List<Integer> ports = orEmpty(r.ports());
      List<String> paths = orEmpty(r.paths());
      List<String> methods = orEmpty(r.methods());
      Map<String, List<String>> headers = r.headers() == null ? Map.of() : r.headers();
      List<String> goodPrincipals = principals.stream().filter(Translator::validPrincipal).toList();
      List<String> goodNamespaces = namespaces.stream().filter(n -> !isBlank(n)).toList();
      List<Integer> goodPorts = ports.stream().filter(p -> p != null && validPort(p)).toList();
      List<String> goodPaths = paths.stream().filter(Translator::validPath).toList();
      List<String> goodMethods = methods.stream().filter(Translator::validToken).toList();
      Map<String, List<String>> goodHeaders = new java.util.LinkedHashMap<>();
      headers.forEach((h, values) -> {
        if (validToken(h) && values != null && !values.isEmpty() && values.stream().allMatch(Translator::validValue)) {
          goodHeaders.put(h, values);
        }
      });
      boolean clean = rule != null && goodPrincipals.size() == principals.size()
          && goodNamespaces.size() == namespaces.size() && goodPorts.size() == ports.size()
          && goodPaths.size() == paths.size() && goodMethods.size() == methods.size()
          && goodHeaders.size() == headers.size();
      if (action == PolicyAction.ALLOW && !clean) {
        continue;
      }
      rules.add(new PolicyRule(goodPrincipals, goodNamespaces, goodPorts, goodPaths, goodMethods, goodHeaders));
    }
    AuthorizationPolicy policy = new AuthorizationPolicy(namespace, name, selector, action, rules, targets);
    if (!policy.targeted() && policy.hasL7()) {
      LOG.warn("AuthorizationPolicy {}/{} is enforced by node agents at L4 only, yet has rules with paths, methods or "
          + "headers: {}; add targetRefs to enforce it at the services' waypoint", namespace, name,
          action == PolicyAction.ALLOW ? "those ALLOW rules never match (fail closed)"
              : "those DENY rules match on their principals, namespaces and ports alone (fail closed)");
    }
    return Optional.of(policy);
  }

  /** The Service names of a policy's {@code targetRefs}; other kinds are dropped with a WARN. */
  private static List<String> targets(AuthorizationPolicySpec spec, String namespace, String name) {
    List<String> targets = new ArrayList<>();
    for (AuthorizationPolicySpec.TargetRef ref : orEmpty(spec.targetRefs())) {
      boolean service = ref != null && (ref.group() == null || ref.group().isEmpty() || "core".equals(ref.group()))
          && (ref.kind() == null || "Service".equals(ref.kind())) && ref.name() != null && DNS_LABEL.matcher(ref.name()).matches();
      if (service) {
        targets.add(ref.name());
      } else {
        LOG.warn("AuthorizationPolicy {}/{}: targetRef {} dropped: only Services of the namespace can be targeted",
            namespace, name, ref);
      }
    }
    return targets;
  }

  /** A path pattern: starts with / or * (exact, prefix*, *suffix, *), no spaces. */
  static boolean validPath(String path) {
    return path != null && !path.isEmpty() && path.length() <= AuthorizationPolicySpec.MAX_L7_LENGTH
        && (path.startsWith("/") || path.startsWith("*")) && path.chars().noneMatch(c -> c <= ' ' || c == 0x7f);
  }

  /** An HTTP token (a method or header name). */
  static boolean validToken(String token) {
    return token != null && !token.isEmpty() && token.length() <= AuthorizationPolicySpec.MAX_L7_LENGTH
        && token.chars().allMatch(c -> c < 0x7f && (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0));
  }

  /** A header value pattern: visible characters and spaces. */
  static boolean validValue(String value) {
    return value != null && value.length() <= AuthorizationPolicySpec.MAX_L7_LENGTH
        && value.chars().allMatch(c -> c == ' ' || c == '\t' || (c > ' ' && c != 0x7f));
  }

  /** A principal the node agent can match: {@code *} or a {@code spiffe://} URI. */
  static boolean validPrincipal(String principal) {
    return principal != null
        && principal.length() <= AuthorizationPolicySpec.MAX_PRINCIPAL_LENGTH
        && ("*".equals(principal) || (principal.startsWith("spiffe://") && principal.length() > "spiffe://".length()
            && principal.chars().noneMatch(Character::isWhitespace)));
  }

  /**
   * First 12 hex digits of the SHA-256 of the snapshot's content, version left out: its canonical
   * JSON (sorted keys: workloads, services, policies, buffer weights, waypoints, routes), then the
   * text of its TrafficPolicy records, which have no plain JSON form.
   */
  static String version(MeshSnapshot snapshot) {
    MeshSnapshot unversioned = new MeshSnapshot("", snapshot.workloads(), snapshot.services(), snapshot.policies(),
        snapshot.bufferWeights(), List.of(), snapshot.waypoints(), snapshot.routes());
    try {
      String canonical = CANONICAL.writeValueAsString(unversioned);
      if (!snapshot.trafficPolicies().isEmpty()) {
        // Not in the JSON (Optional, Duration): their records' text is as canonical.
        canonical += snapshot.trafficPolicies().stream().map(TrafficPolicy::toString)
            .collect(Collectors.joining("\n", "\ntrafficPolicies:\n", ""));
      }
      byte[] json = canonical.getBytes(StandardCharsets.UTF_8);
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(json);
      return HexFormat.of().formatHex(digest).substring(0, VERSION_HEX_CHARS);
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot hash a mesh snapshot", e);
    }
  }

  private static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  private static boolean isTcp(String protocol) {
    return protocol == null || "TCP".equals(protocol);
  }

  private static boolean validPort(int port) {
    return port >= 1 && port <= 65535;
  }

  private static String namespaceOf(HasMetadata object) {
    return object.getMetadata() == null ? null : object.getMetadata().getNamespace();
  }

  private static String label(ObjectMeta meta, String name) {
    return meta == null || meta.getLabels() == null ? null : meta.getLabels().get(name);
  }

  private static Map<String, String> withoutNulls(Map<String, String> map) {
    if (map == null) {
      return Map.of();
    }
    Predicate<Map.Entry<String, String>> complete = e -> e.getKey() != null && e.getValue() != null;
    return map.entrySet().stream().filter(complete).collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  private static String firstNonBlank(String... values) {
    for (String v : values) {
      if (!isBlank(v)) {
        return v;
      }
    }
    throw new IllegalArgumentException("no value");
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}

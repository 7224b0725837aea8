package dev.capstan.controller.source;

import dev.capstan.controller.source.ManifestDirectory.Problem;
import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import dev.capstan.core.hbone.Hbone;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the clusterless source checks in each manifest, beyond what the YAML and the types already
 * reject: the fields the {@link Translator} reads, with the API server's rules where it has them.
 * Each check reports through a {@link Check} that knows the object's file and lines.
 */
final class ManifestChecks {

  /** DNS-1123 label: namespaces, port names of services. */
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  /** DNS-1035 label: service names. */
  private static final Pattern DNS_1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  /** DNS-1123 subdomain: most object names, node names, service accounts. */
  private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** IANA service name: named ports. */
  private static final Pattern IANA_SVC_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Set<String> PHASES = Set.of("Pending", "Running", "Succeeded", "Failed", "Unknown");
  private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP");
  private static final Set<String> SERVICE_TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");
  private static final Set<String> ADDRESS_TYPES = Set.of("IPv4", "IPv6", "FQDN");
  private static final Set<String> MESH_LABEL_VALUES = Set.of(Translator.MESH_ENABLED, Translator.MESH_DISABLED);

  private ManifestChecks() {}

  /** Problems of one object, located in its file by path. */
  static final class Check {
    private final Path file;
    private final LineIndex lines;
    private final String subject;
    private final List<Problem> out;

    Check(Path file, LineIndex lines, String subject, List<Problem> out) {
      this.file = file;
      this.lines = lines;
      this.subject = subject;
      this.out = out;
    }

    /** Reports {@code "<Kind> <name>: <path> <reason>"} at the line of the path. */
    void error(String path, String reason) {
      out.add(new Problem(file, lines.lineOf(path), subject + ": " + (path.isEmpty() ? "" : path + " ") + reason));
    }

    int line(String path) {
      return lines.lineOf(path);
    }

    Path file() {
      return file;
    }

    List<Problem> problems() {
      return out;
    }

    String subject() {
      return subject;
    }
  }

  /** Name (DNS subdomain, or the given stricter form), namespace field for the kind's scope. */
  static void metadata(HasMetadata object, boolean namespaced, Pattern namePattern, int maxName, Check check) {
    ObjectMeta meta = object.getMetadata();
    if (meta == null || meta.getName() == null || meta.getName().isEmpty()) {
      check.error("metadata.name", "is required");
      return;
    }
    name(meta.getName(), namePattern, maxName, "metadata.name", check);
    if (namespaced && meta.getNamespace() != null) {
      name(meta.getNamespace(), DNS_LABEL, 63, "metadata.namespace", check);
    }
    if (!namespaced && meta.getNamespace() != null) {
      check.error("metadata.namespace", "must not be set: " + object.getKind() + " is not namespaced");
    }
    if (meta.getUid() != null && meta.getUid().isBlank()) {
      check.error("metadata.uid", "must not be blank");
    }
  }

  static void namespace(Namespace namespace, Check check) {
    metadata(namespace, false, DNS_LABEL, 63, check);
    meshLabel(namespace.getMetadata(), check);
  }

  static void pod(Pod pod, Check check) {
    metadata(pod, true, DNS_SUBDOMAIN, 253, check);
    meshLabel(pod.getMetadata(), check);
    PodSpec spec = pod.getSpec();
    if (spec == null) {
      check.error("spec.nodeName", "is required");
    } else {
      if (spec.getNodeName() == null || spec.getNodeName().isEmpty()) {
        check.error("spec.nodeName", "is required");
      } else {
        name(spec.getNodeName(), DNS_SUBDOMAIN, 253, "spec.nodeName", check);
      }
      if (spec.getServiceAccountName() != null) {
        name(spec.getServiceAccountName(), DNS_SUBDOMAIN, 253, "spec.serviceAccountName", check);
      }
      List<Container> containers = spec.getContainers() == null ? List.of() : spec.getContainers();
      for (int i = 0; i < containers.size(); i++) {
        Container c = containers.get(i);
        List<ContainerPort> ports = c == null || c.getPorts() == null ? List.of() : c.getPorts();
        for (int j = 0; j < ports.size(); j++) {
          String path = "spec.containers[" + i + "].ports[" + j + "]";
          ContainerPort p = ports.get(j);
          if (p == null || p.getContainerPort() == null || !validPort(p.getContainerPort())) {
            check.error(path + ".containerPort", "must be a port number 1-65535");
          } else if (p.getName() != null) {
            portName(p.getName(), path + ".name", check);
          }
          if (p != null && p.getProtocol() != null && !PROTOCOLS.contains(p.getProtocol())) {
            check.error(path + ".protocol", "must be TCP, UDP or SCTP, got '" + p.getProtocol() + "'");
          }
        }
      }
    }
    PodStatus status = pod.getStatus();
    String podIp = status == null ? null : status.getPodIP();
    List<PodIP> podIps = status == null || status.getPodIPs() == null ? List.of() : status.getPodIPs();
    if ((podIp == null || podIp.isEmpty()) && podIps.isEmpty()) {
      check.error("status.podIP", "is required (no one assigns pod IPs in clusterless mode)");
    }
    if (podIp != null && Hbone.literalIp(podIp).isEmpty()) {
      check.error("status.podIP", "'" + podIp + "' is not a literal IP address");
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < podIps.size(); i++) {
      String ip = podIps.get(i) == null ? null : podIps.get(i).getIp();
      if (Hbone.literalIp(ip).isEmpty()) {
        check.error("status.podIPs[" + i + "]", "'" + ip + "' is not a literal IP address");
      } else if (!seen.add(Translator.canonicalIp(ip))) {
        check.error("status.podIPs[" + i + "]", "'" + ip + "' appears twice");
      }
    }
    if (podIp != null && !podIps.isEmpty() && podIps.get(0) != null && !podIp.equals(podIps.get(0).getIp())) {
      check.error("status.podIPs[0]", "must equal status.podIP (" + podIp + ")");
    }
    String phase = status == null ? null : status.getPhase();
    if (phase != null && !PHASES.contains(phase)) {
      check.error("status.phase", "must be one of Pending, Running, Succeeded, Failed, Unknown; got '" + phase + "'");
    }
  }

  static void service(Service service, Check check) {
    metadata(service, true, DNS_1035_LABEL, 63, check);
    ServiceSpec spec = service.getSpec();
    if (spec == null) {
      check.error("spec", "is required");
      return;
    }
    if (spec.getType() != null && !SERVICE_TYPES.contains(spec.getType())) {
      check.error("spec.type", "must be ClusterIP, NodePort, LoadBalancer or ExternalName; got '" + spec.getType() + "'");
    }
    String clusterIp = spec.getClusterIP();
    if (clusterIp != null && !clusterIp.isEmpty() && !"None".equals(clusterIp) && Hbone.literalIp(clusterIp).isEmpty()) {
      check.error("spec.clusterIP", "'" + clusterIp + "' must be a literal IP address or None");
    }
    List<String> clusterIps = spec.getClusterIPs() == null ? List.of() : spec.getClusterIPs();
    for (int i = 0; i < clusterIps.size(); i++) {
      String ip = clusterIps.get(i);
      if (ip == null || (!"None".equals(ip) && Hbone.literalIp(ip).isEmpty())) {
        check.error("spec.clusterIPs[" + i + "]", "'" + ip + "' must be a literal IP address or None");
      }
    }
    if (clusterIp != null && !clusterIp.isEmpty() && !clusterIps.isEmpty() && !clusterIp.equals(clusterIps.get(0))) {
      check.error("spec.clusterIPs[0]", "must equal spec.clusterIP (" + clusterIp + ")");
    }
    List<ServicePort> ports = spec.getPorts() == null ? List.of() : spec.getPorts();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < ports.size(); i++) {
      String path = "spec.ports[" + i + "]";
      ServicePort p = ports.get(i);
      if (p == null || p.getPort() == null || !validPort(p.getPort())) {
        check.error(path + ".port", "must be a port number 1-65535");
        continue;
      }
      if (p.getProtocol() != null && !PROTOCOLS.contains(p.getProtocol())) {
        check.error(path + ".protocol", "must be TCP, UDP or SCTP, got '" + p.getProtocol() + "'");
      }
      if (p.getName() == null || p.getName().isEmpty()) {
        if (ports.size() > 1) {
          check.error(path + ".name", "is required when a service has several ports");
        }
      } else {
        name(p.getName(), DNS_LABEL, 63, path + ".name", check);
        if (!names.add(p.getName())) {
          check.error(path + ".name", "'" + p.getName() + "' is used by two ports");
        }
      }
      IntOrString target = p.getTargetPort();
      if (target != null && target.getIntVal() != null && !validPort(target.getIntVal())) {
        check.error(path + ".targetPort", "must be a port number 1-65535 or a port name");
      } else if (target != null && target.getIntVal() == null && target.getStrVal() != null) {
        portName(target.getStrVal(), path + ".targetPort", check);
      }
    }
  }

  static void endpointSlice(EndpointSlice slice, Check check) {
    metadata(slice, true, DNS_SUBDOMAIN, 253, check);
    Map<String, String> labels = slice.getMetadata() == null ? null : slice.getMetadata().getLabels();
    String service = labels == null ? null : labels.get(Translator.SERVICE_NAME_LABEL);
    if (service == null || service.isEmpty()) {
      check.error("metadata.labels", "must have " + Translator.SERVICE_NAME_LABEL + " (the service's name)");
    }
    if (slice.getAddressType() == null || !ADDRESS_TYPES.contains(slice.getAddressType())) {
      check.error("addressType", "must be IPv4, IPv6 or FQDN");
    }
    boolean literal = !"FQDN".equals(slice.getAddressType());
    var endpoints = slice.getEndpoints() == null ? List.<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint>of() : slice.getEndpoints();
    for (int i = 0; i < endpoints.size(); i++) {
      String path = "endpoints[" + i + "]";
      var e = endpoints.get(i);
      if (e == null || e.getAddresses() == null || e.getAddresses().isEmpty()) {
        check.error(path + ".addresses", "must hold at least one address");
        continue;
      }
      for (int j = 0; j < e.getAddresses().size(); j++) {
        String address = e.getAddresses().get(j);
        if (literal && Hbone.literalIp(address).isEmpty()) {
          check.error(path + ".addresses[" + j + "]", "'" + address + "' is not a literal IP address");
        }
      }
      if (e.getTargetRef() != null && (e.getTargetRef().getKind() == null || e.getTargetRef().getName() == null)) {
        check.error(path + ".targetRef", "needs kind and name");
      }
    }
    List<EndpointPort> ports = slice.getPorts() == null ? List.of() : slice.getPorts();
    for (int i = 0; i < ports.size(); i++) {
      EndpointPort p = ports.get(i);
      if (p == null || (p.getPort() != null && !validPort(p.getPort()))) {
        check.error("ports[" + i + "].port", "must be a port number 1-65535");
      }
    }
  }

  static void authorizationPolicy(AuthorizationPolicyResource policy, Check check) {
    metadata(policy, true, DNS_SUBDOMAIN, 253, check);
    AuthorizationPolicySpec spec = policy.getSpec();
    if (spec == null) {
      check.error("spec", "is required ({} is the deny-all policy)");
      return;
    }
    if (spec.action() != null && !"ALLOW".equals(spec.action()) && !"DENY".equals(spec.action())) {
      check.error("spec.action", "must be ALLOW or DENY, got '" + spec.action() + "'");
    }
    Map<String, String> matchLabels = spec.selector() == null ? null : spec.selector().matchLabels();
    if (matchLabels != null) {
      if (matchLabels.size() > AuthorizationPolicySpec.MAX_ITEMS) {
        check.error("spec.selector.matchLabels", "has more than " + AuthorizationPolicySpec.MAX_ITEMS + " entries");
      }
      matchLabels.forEach((k, v) -> {
        if (k == null || k.isEmpty() || v == null || v.length() > AuthorizationPolicySpec.MAX_LABEL_VALUE_LENGTH) {
          check.error("spec.selector.matchLabels." + k, "must be a label with a value of at most "
              + AuthorizationPolicySpec.MAX_LABEL_VALUE_LENGTH + " characters");
        }
      });
    }
    List<AuthorizationPolicySpec.Rule> rules = spec.rules() == null ? List.of() : spec.rules();
    if (rules.size() > AuthorizationPolicySpec.MAX_RULES) {
      check.error("spec.rules", "has more than " + AuthorizationPolicySpec.MAX_RULES + " rules");
    }
    for (int i = 0; i < rules.size(); i++) {
      String path = "spec.rules[" + i + "]";
      AuthorizationPolicySpec.Rule rule = rules.get(i);
      if (rule == null) {
        check.error(path, "must be a mapping ({} matches everything)");
        continue;
      }
      List<String> principals = rule.principals() == null ? List.of() : rule.principals();
      List<String> namespaces = rule.namespaces() == null ? List.of() : rule.namespaces();
      List<Integer> ports = rule.ports() == null ? List.of() : rule.ports();
      bounded(principals, path + ".principals", check);
      bounded(namespaces, path + ".namespaces", check);
      bounded(ports, path + ".ports", check);
      for (int j = 0; j < principals.size(); j++) {
        if (!Translator.validPrincipal(principals.get(j))) {
          check.error(path + ".principals[" + j + "]", "'" + principals.get(j)
              + "' must be * or a SPIFFE ID (spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>)");
        }
      }
      for (int j = 0; j < namespaces.size(); j++) {
        String ns = namespaces.get(j);
        if (ns == null || ns.length() > 63 || !DNS_LABEL.matcher(ns).matches()) {
          check.error(path + ".namespaces[" + j + "]", "'" + ns + "' is not a namespace name");
        }
      }
      for (int j = 0; j < ports.size(); j++) {
        if (ports.get(j) == null || !validPort(ports.get(j))) {
          check.error(path + ".ports[" + j + "]", "must be a port number 1-65535");
        }
      }
      List<String> paths = rule.paths() == null ? List.of() : rule.paths();
      List<String> methods = rule.methods() == null ? List.of() : rule.methods();
      bounded(paths, path + ".paths", check);
      bounded(methods, path + ".methods", check);
      for (int j = 0; j < paths.size(); j++) {
        if (!Translator.validPath(paths.get(j))) {
          check.error(path + ".paths[" + j + "]", "'" + paths.get(j)
              + "' must be a path (/x), a prefix (/x/*), a suffix (*.css) or *");
        }
      }
      for (int j = 0; j < methods.size(); j++) {
        if (!Translator.validToken(methods.get(j))) {
          check.error(path + ".methods[" + j + "]", "'" + methods.get(j) + "' is not an HTTP method");
        }
      }
      if (rule.headers() != null) {
        if (rule.headers().size() > AuthorizationPolicySpec.MAX_ITEMS) {
          check.error(path + ".headers", "has more than " + AuthorizationPolicySpec.MAX_ITEMS + " entries");
        }
        rule.headers().forEach((name, values) -> {
          if (!Translator.validToken(name)) {
            check.error(path + ".headers." + name, "is not a header name");
          } else if (values == null || values.isEmpty() || values.size() > AuthorizationPolicySpec.MAX_ITEMS
              || !values.stream().allMatch(Translator::validValue)) {
            check.error(path + ".headers." + name, "must list 1 to " + AuthorizationPolicySpec.MAX_ITEMS + " values");
          }
        });
      }
    }
    List<AuthorizationPolicySpec.TargetRef> refs = spec.targetRefs() == null ? List.of() : spec.targetRefs();
    bounded(refs, "spec.targetRefs", check);
    for (int i = 0; i < refs.size(); i++) {
      AuthorizationPolicySpec.TargetRef ref = refs.get(i);
      String at = "spec.targetRefs[" + i + "]";
      if (ref == null || ref.name() == null || !DNS_LABEL.matcher(ref.name()).matches()) {
        check.error(at + ".name", "must name a Service of the namespace");
      } else if (!(ref.group() == null || ref.group().isEmpty() || "core".equals(ref.group()))
          || !(ref.kind() == null || "Service".equals(ref.kind()))) {
        check.error(at + ".kind", "only Services can be targeted, got '" + ref.kind() + "'");
      }
    }
    if (!refs.isEmpty() && matchLabels != null && !matchLabels.isEmpty()) {
      check.error("spec.selector", "and spec.targetRefs are exclusive (targetRefs: the services' waypoint enforces it)");
    }
  }

  /** A TrafficPolicy's envelope; its spec is read (and a bad one left out with a WARN) by the translator. */
  static void trafficPolicy(TrafficPolicyResource policy, Check check) {
    metadata(policy, true, DNS_SUBDOMAIN, 253, check);
  }

  /** Kubernetes quantity syntax ({@code 100m}, {@code 128Mi}, {@code 1.5}, {@code 1e3}), as the API server's. */
  private static final Pattern QUANTITY = Pattern.compile(
      "[+-]?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?");

  static void waypoint(WaypointResource waypoint, Check check) {
    // The name is also its Service's: a DNS-1035 label.
    metadata(waypoint, true, DNS_1035_LABEL, 63, check);
    WaypointSpec spec = waypoint.getSpec();
    if (spec == null) {
      return; // every field has a default
    }
    if (spec.replicas() != null && (spec.replicas() < 0 || spec.replicas() > WaypointSpec.MAX_REPLICAS)) {
      check.error("spec.replicas", "must be between 0 and " + WaypointSpec.MAX_REPLICAS + ", got " + spec.replicas());
    }
    if (spec.trafficType() != null && dev.capstan.core.model.Waypoint.TrafficType.of(spec.trafficType()).isEmpty()) {
      check.error("spec.trafficType", "must be service, workload, all or none, got '" + spec.trafficType() + "'");
    }
    if (spec.serviceAccount() != null) {
      name(spec.serviceAccount(), DNS_SUBDOMAIN, 253, "spec.serviceAccount", check);
    }
    if (spec.resources() != null) {
      quantities(spec.resources().requests(), "spec.resources.requests", check);
      quantities(spec.resources().limits(), "spec.resources.limits", check);
    }
  }

  private static void quantities(Map<String, String> values, String path, Check check) {
    if (values == null) {
      return;
    }
    if (values.size() > WaypointSpec.MAX_RESOURCES) {
      check.error(path, "has more than " + WaypointSpec.MAX_RESOURCES + " entries");
    }
    values.forEach((k, v) -> {
      if (k == null || k.isEmpty() || v == null || !QUANTITY.matcher(v).matches()) {
        check.error(path + "." + k, "must be a quantity like 100m, 2 or 128Mi, got '" + v + "'");
      }
    });
  }

  /**
   * An HTTPRoute or GRPCRoute: its name and namespace. What the waypoint can do with it is the
   * {@link Translator}'s to say (a route it cannot act on is left out with a warning, as in a
   * cluster), so one route does not hold the whole directory back.
   */
  static void route(GenericKubernetesResource route, Check check) {
    metadata(route, true, DNS_SUBDOMAIN, 253, check);
    if (!(route.getAdditionalProperties().get("spec") instanceof Map)) {
      check.error("spec", "is required (a mapping)");
    }
  }

  private static void bounded(List<?> list, String path, Check check) {
    if (list.size() > AuthorizationPolicySpec.MAX_ITEMS) {
      check.error(path, "has more than " + AuthorizationPolicySpec.MAX_ITEMS + " items");
    }
  }

  private static void meshLabel(ObjectMeta meta, Check check) {
    String value = meta == null || meta.getLabels() == null ? null : meta.getLabels().get(Translator.MESH_LABEL);
    if (value != null && !MESH_LABEL_VALUES.contains(value)) {
      check.error("metadata.labels." + Translator.MESH_LABEL, "must be enabled or disabled, got '" + value + "'");
    }
  }

  private static void name(String value, Pattern pattern, int max, String path, Check check) {
    if (value.length() > max || !pattern.matcher(value).matches()) {
      check.error(path, "'" + value + "' is not a valid name (lower-case letters, digits and '-', at most " + max + " characters)");
    }
  }

  private static void portName(String value, String path, Check check) {
    boolean letter = value.chars().anyMatch(c -> c >= 'a' && c <= 'z');
    if (value.length() > 15 || !letter || !IANA_SVC_NAME.matcher(value).matches() || value.contains("--")) {
      check.error(path, "'" + value + "' is not a port name (at most 15 lower-case letters, digits and '-', with a letter)");
    }
  }

  private static boolean validPort(int port) {
    return port >= 1 && port <= 65535;
  }
}

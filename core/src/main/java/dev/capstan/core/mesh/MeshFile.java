package dev.capstan.core.mesh;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The mesh view file: {@code version}, {@code workloads}, {@code services}, {@code policies},
 * {@code namespaces} (buffer weights: {@code [{name, bufferWeight}]}) in YAML or JSON. Every error
 * names the entry and field.
 */
public final class MeshFile {

  private static final java.util.regex.Pattern WAYPOINT = java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?");

  private MeshFile() {}

  public static MeshSnapshot parse(String text, String source) {
    Fields f = Fields.parse(text, source).only("version", "workloads", "services", "policies", "namespaces");
    List<Workload> workloads = f.list("workloads", (w, i) -> {
      w.only("uid", "name", "namespace", "serviceAccount", "ips", "node", "labels", "waypoint");
      List<String> ips = w.strings("ips");
      for (String ip : ips) {
        if (Hbone.literalIp(ip).isEmpty()) {
          throw new ConfigException(w.path() + ".ips: '" + ip + "' is not a literal IP address");
        }
      }
      try {
        dev.capstan.core.identity.SpiffeId.of("cluster.local", w.string("namespace"), w.string("serviceAccount", "default"));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(w.path() + ": " + e.getMessage());
      }
      try {
        return new Workload(
            w.string("uid"), w.string("name"), w.string("namespace"), w.string("serviceAccount", "default"),
            ips, w.string("node"), w.stringMap("labels"), w.optionalString("waypoint").orElse(null));
      } catch (RuntimeException e) {
        throw new ConfigException(w.path() + ": " + e.getMessage());
      }
    });
    Set<String> uids = new HashSet<>();
    java.util.Map<String, String> ipOwners = new java.util.HashMap<>();
    for (int i = 0; i < workloads.size(); i++) {
      Workload w = workloads.get(i);
      if (!uids.add(w.uid())) {
        throw new ConfigException(source + ": workloads[" + i + "].uid: workload uid '" + w.uid() + "' appears twice");
      }
      for (String ip : w.ips()) {
        String owner = ipOwners.putIfAbsent(Hbone.literalIp(ip).orElseThrow().getHostAddress(), w.uid());
        if (owner != null) {
          throw new ConfigException(source + ": workloads[" + i + "].ips: IP " + ip + " belongs to two workloads ("
              + owner + " and " + w.uid() + ")");
        }
      }
    }
    List<Service> services = f.list("services", (s, i) -> {
      s.only("namespace", "name", "vips", "ports", "endpoints", "waypoint");
      List<String> vips = s.strings("vips");
      for (String vip : vips) {
        if (Hbone.literalIp(vip).isEmpty()) {
          throw new ConfigException(s.path() + ".vips: '" + vip + "' is not a literal IP address");
        }
      }
      List<ServicePort> ports = s.list("ports", (p, j) -> {
        p.only("name", "port", "targetPort");
        try {
          return new ServicePort(p.string("name", ""), p.integer("port", 0, 1, 65535), p.integer("targetPort", 0, 0, 65535));
        } catch (IllegalArgumentException e) {
          throw new ConfigException(p.path() + ": " + e.getMessage());
        }
      });
      List<Endpoint> endpoints = s.list("endpoints", (e, j) -> {
        e.only("workload", "healthy");
        String uid = e.string("workload");
        if (!uids.contains(uid)) {
          throw new ConfigException(e.path() + ".workload: no workload with uid '" + uid + "'");
        }
        return new Endpoint(uid, e.bool("healthy", true));
      });
      String waypoint = s.string("waypoint", null);
      if (waypoint != null && !WAYPOINT.matcher(waypoint).matches()) {
        throw new ConfigException(s.path() + ".waypoint: '" + waypoint + "' must be <namespace>/<name> of the waypoint's service");
      }
      return new Service(s.string("namespace"), s.string("name"), vips, ports, endpoints, waypoint);
    });
    List<AuthorizationPolicy> policies = f.list("policies", (p, i) -> {
      p.only("namespace", "name", "selector", "action", "rules", "targets");
      String action = p.string("action", "allow");
      PolicyAction a;
      try {
        a = PolicyAction.valueOf(action.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(p.path() + ".action must be allow or deny, got '" + action + "'");
      }
      List<PolicyRule> rules = p.list("rules", (r, j) -> {
        r.only("principals", "namespaces", "ports", "paths", "methods", "headers");
        List<Integer> ports = r.strings("ports").stream().map(s -> {
          try {
            if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
              throw new NumberFormatException();
            }
            int port = Integer.parseInt(s);
            if (port < 1 || port > 65535) {
              throw new NumberFormatException();
            }
            return port;
          } catch (NumberFormatException e) {
            throw new ConfigException(r.path() + ".ports: '" + s + "' is not a port");
          }
        }).toList();
        List<String> paths = r.strings("paths");
        for (int k = 0; k < paths.size(); k++) {
          String path = paths.get(k);
          if (!(path.startsWith("/") || path.startsWith("*"))) {
            throw new ConfigException(r.path() + ".paths[" + k + "] must start with / or *, got '" + path + "'");
          }
        }
        return new PolicyRule(r.strings("principals"), r.strings("namespaces"), ports, paths, r.strings("methods"),
            r.stringListMap("headers"));
      });
      List<String> targets = p.strings("targets");
      if (!targets.isEmpty() && !p.stringMap("selector").isEmpty()) {
        throw new ConfigException(p.path() + ": selector and targets are exclusive (targets: the waypoint of those services enforces it)");
      }
      return new AuthorizationPolicy(p.string("namespace"), p.string("name"), p.stringMap("selector"), a, rules, targets);
    });
    java.util.Map<String, Integer> weights = new java.util.TreeMap<>();
    f.list("namespaces", (n, i) -> {
      n.only("name", "bufferWeight");
      weights.put(n.string("name"), n.integer("bufferWeight", 1, 1, 100));
      return n;
    });
    return new MeshSnapshot(f.string("version", "0"), workloads, services, policies, weights);
  }
}

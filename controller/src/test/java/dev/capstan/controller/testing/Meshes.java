package dev.capstan.controller.testing;

import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Synthetic meshes: {@code n} workloads over nodes, a service per ten workloads, a policy per namespace. */
public final class Meshes {

  private Meshes() {}

  public static Workload workload(int i, int nodes) {
    return new Workload(String.format("00000000-0000-0000-0000-%012d", i), "app-" + (i / 10) + "-" + i,
        "ns-" + (i % 5), "sa-" + (i / 10), List.of(ip(i)), "node-" + (i % nodes),
        Map.of("app", "app-" + (i / 10), "version", "v1"), null);
  }

  public static String ip(int i) {
    return "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
  }

  public static MeshSnapshot mesh(String version, int workloads, int nodes) {
    List<Workload> ws = new ArrayList<>();
    for (int i = 0; i < workloads; i++) {
      ws.add(workload(i, nodes));
    }
    return mesh(version, ws);
  }

  public static MeshSnapshot mesh(String version, List<Workload> ws) {
    List<Service> services = new ArrayList<>();
    for (int s = 0; s * 10 < ws.size(); s++) {
      List<Endpoint> endpoints = new ArrayList<>();
      for (int i = s * 10; i < Math.min(ws.size(), s * 10 + 10); i++) {
        endpoints.add(new Endpoint(ws.get(i).uid(), true));
      }
      services.add(new Service(ws.get(s * 10).namespace(), "svc-" + s, List.of("172.16." + (s >> 8 & 255) + "." + (s & 255)),
          List.of(new ServicePort("http", 80, 8080)), endpoints));
    }
    List<AuthorizationPolicy> policies = new ArrayList<>();
    for (int n = 0; n < 5; n++) {
      policies.add(new AuthorizationPolicy("ns-" + n, "allow-mesh", Map.of(), PolicyAction.ALLOW,
          List.of(new PolicyRule(List.of(), List.of("ns-" + n), List.of(8080)))));
    }
    return new MeshSnapshot(version, ws, services, policies);
  }
}

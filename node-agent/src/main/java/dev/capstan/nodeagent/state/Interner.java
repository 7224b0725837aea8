package dev.capstan.nodeagent.state;

import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shares the strings and label maps that many workloads repeat (namespace, service account, node,
 * labels of one deployment's pods), so the view holds each once. Not thread-safe: the mesh
 * thread owns it.
 */
final class Interner {

  private final Map<String, String> strings = new HashMap<>();
  private final Map<Map<String, String>, Map<String, String>> labels = new HashMap<>();

  Workload workload(Workload w) {
    return new Workload(w.uid(), w.name(), string(w.namespace()), string(w.serviceAccount()), w.ips(),
        string(w.node()), labels.computeIfAbsent(w.labels(), l -> l), w.waypoint() == null ? null : string(w.waypoint()));
  }

  /**
   * The service with each endpoint's uid replaced by the workload's own uid string (the same
   * service when they already are), so an endpoint costs its record and not another uid.
   */
  static Service endpointUids(Service service, Map<String, Workload> byUid) {
    boolean shared = true;
    for (Endpoint e : service.endpoints()) {
      Workload w = byUid.get(e.workloadUid());
      shared &= w == null || w.uid() == e.workloadUid(); // the same instance, not an equal string
    }
    if (shared) {
      return service;
    }
    List<Endpoint> endpoints = new ArrayList<>(service.endpoints().size());
    for (Endpoint e : service.endpoints()) {
      Workload w = byUid.get(e.workloadUid());
      endpoints.add(w == null ? e : new Endpoint(w.uid(), e.healthy()));
    }
    return new Service(service.namespace(), service.name(), service.vips(), service.ports(), endpoints, service.waypoint());
  }

  private String string(String s) {
    return strings.computeIfAbsent(s, x -> x);
  }
}

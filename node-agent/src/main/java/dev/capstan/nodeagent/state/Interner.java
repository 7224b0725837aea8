package dev.capstan.nodeagent.state;

import dev.capstan.core.model.Workload;
import java.util.HashMap;
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

  private String string(String s) {
    return strings.computeIfAbsent(s, x -> x);
  }
}

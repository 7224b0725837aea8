package dev.capstan.netlab;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A pod to create: its Kubernetes identity (what the manifests say) and where it runs.
 *
 * @param name pod name, unique in the test network (it names the namespace and finds the pod)
 * @param namespace Kubernetes namespace
 * @param node 1 or 2
 * @param serviceAccount Kubernetes service account (the SPIFFE identity's {@code sa})
 * @param labels pod labels ({@code app} defaults to the name without a trailing {@code -<digits>})
 * @param ip a fixed pod IP, or empty for the next free one of the node's CIDR (from .10)
 */
public record PodSpec(String name, String namespace, int node, String serviceAccount, Map<String, String> labels,
    Optional<String> ip) {
  public PodSpec {
    if (!name.matches("[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")) {
      throw new IllegalArgumentException("pod name must be a short DNS label, got '" + name + "'");
    }
    if (node != 1 && node != 2) {
      throw new IllegalArgumentException("node must be 1 or 2, got " + node);
    }
    labels = Map.copyOf(labels);
  }

  /** A pod {@code name} in {@code namespace} on node {@code node}, service account and {@code app} label from its name. */
  public static PodSpec of(String namespace, String name, int node) {
    String app = name.replaceAll("-[0-9]+$", "");
    return new PodSpec(name, namespace, node, app, Map.of("app", app), Optional.empty());
  }

  public PodSpec serviceAccount(String sa) {
    return new PodSpec(name, namespace, node, sa, labels, ip);
  }

  /** The same pod with one more (or a replaced) label. */
  public PodSpec label(String key, String value) {
    Map<String, String> l = new LinkedHashMap<>(labels);
    l.put(key, value);
    return new PodSpec(name, namespace, node, serviceAccount, l, ip);
  }

  public PodSpec ip(String fixed) {
    return new PodSpec(name, namespace, node, serviceAccount, labels, Optional.of(fixed));
  }
}

package dev.capstan.controller.ca;

import java.util.Map;
import java.util.Optional;

/**
 * Reads a pod by name, as the controller's Kubernetes source knows it (an informer cache) or from
 * the API server ({@link KubernetesPodLookup}). May block; called on a worker thread.
 */
public interface PodLookup {

  /** The pod, if it exists. */
  Optional<PodInfo> pod(String namespace, String name);

  /**
   * What the CA needs to know of a pod.
   *
   * @param uid the pod's uid
   * @param node the node it is scheduled on; empty if not scheduled yet
   * @param labels its labels (empty when the lookup does not keep them: a waypoint pod is always
   *     read from the API server, with its labels)
   */
  record PodInfo(String uid, String node, Map<String, String> labels) {
    public PodInfo {
      labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** A pod whose labels the lookup does not give. */
    public PodInfo(String uid, String node) {
      this(uid, node, Map.of());
    }
  }
}

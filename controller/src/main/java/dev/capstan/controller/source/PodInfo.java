package dev.capstan.controller.source;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Objects;
import java.util.Optional;

/**
 * What the CA needs to know about a pod: its uid and the node it is scheduled to.
 *
 * @param uid pod uid
 * @param node name of the node the pod is scheduled to
 */
public record PodInfo(String uid, String node) {

  public PodInfo {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(node, "node");
  }

  /** The info of a pod that exists, is scheduled and has not terminated; else empty. */
  static Optional<PodInfo> of(Pod pod) {
    if (pod == null || pod.getMetadata() == null || pod.getMetadata().getUid() == null
        || pod.getSpec() == null || pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()) {
      return Optional.empty();
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return Optional.empty();
    }
    return Optional.of(new PodInfo(pod.getMetadata().getUid(), pod.getSpec().getNodeName()));
  }
}

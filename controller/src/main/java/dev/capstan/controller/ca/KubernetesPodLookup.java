package dev.capstan.controller.ca;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;

/** A {@link PodLookup} that asks the API server each time (a blocking GET); it gives the pod's labels. */
public final class KubernetesPodLookup implements PodLookup {

  private final KubernetesClient client;

  public KubernetesPodLookup(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<PodInfo> pod(String namespace, String name) {
    Pod pod = client.pods().inNamespace(namespace).withName(name).get();
    if (pod == null || pod.getMetadata() == null) {
      return Optional.empty();
    }
    String node = pod.getSpec() == null || pod.getSpec().getNodeName() == null ? "" : pod.getSpec().getNodeName();
    return Optional.of(new PodInfo(String.valueOf(pod.getMetadata().getUid()), node, pod.getMetadata().getLabels()));
  }
}

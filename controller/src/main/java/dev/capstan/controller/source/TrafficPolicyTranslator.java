package dev.capstan.controller.source;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.policy.TrafficPolicyManifest;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TrafficPolicy resources of enrolled namespaces into the model, through core's {@link
 * TrafficPolicyManifest} (the same reader the waypoint uses on files). A policy that does not read
 * is left out with a WARN naming it and the field; the others go on — a bad policy changes
 * nothing rather than everything.
 */
final class TrafficPolicyTranslator {

  private static final Logger LOG = LoggerFactory.getLogger(TrafficPolicyTranslator.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrafficPolicyTranslator() {}

  /** The valid policies of {@code enrolled} namespaces, sorted by namespace and name. */
  static List<TrafficPolicy> translate(List<TrafficPolicyResource> resources, Set<String> enrolled) {
    return resources.stream()
        .filter(r -> r.getMetadata() != null && r.getMetadata().getName() != null
            && enrolled.contains(r.getMetadata().getNamespace()))
        .map(TrafficPolicyTranslator::policy)
        .flatMap(Optional::stream)
        .sorted(Comparator.comparing(TrafficPolicy::namespace).thenComparing(TrafficPolicy::name))
        .toList();
  }

  /** The model of one resource, or empty (logged) when it does not read. */
  static Optional<TrafficPolicy> policy(TrafficPolicyResource resource) {
    String namespace = resource.getMetadata().getNamespace();
    String name = resource.getMetadata().getName();
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("apiVersion", TrafficPolicyResource.API_VERSION);
    manifest.put("kind", TrafficPolicyResource.KIND);
    ObjectNode meta = manifest.putObject("metadata");
    meta.put("name", name);
    meta.put("namespace", namespace);
    if (resource.getMetadata().getCreationTimestamp() != null) {
      meta.put("creationTimestamp", resource.getMetadata().getCreationTimestamp());
    }
    if (resource.getSpec() != null) {
      manifest.set("spec", resource.getSpec());
    }
    try {
      return Optional.of(TrafficPolicyManifest.parse(manifest.toString(), "TrafficPolicy " + namespace + "/" + name));
    } catch (ConfigException e) {
      LOG.warn("{}; the policy is left out until it is fixed (its services keep the waypoint's defaults)", e.getMessage());
      return Optional.empty();
    }
  }
}

package dev.capstan.controller.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.policy.TrafficPolicyManifest;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The chart's TrafficPolicy CRD, the resource class and core's reader agree: a manifest with every
 * field of the schema is read in full, and the schema has every field of that manifest.
 */
class TrafficPolicyCrdTest {

  static final Path CRD = Path.of("..", "charts", "capstan", "crds", "trafficpolicies.capstan.dev.yaml");

  /** Every field the reader knows, once. */
  static final String EVERY_FIELD = """
      apiVersion: capstan.dev/v1alpha1
      kind: TrafficPolicy
      metadata: {name: all, namespace: shop}
      spec:
        targetRefs: [{group: "", kind: Service, name: reviews}]
        retry:
          attempts: 2
          retryOn: [5xx]
          perTryTimeout: 1s
          backoff: {baseInterval: 25ms, maxInterval: 250ms}
          budget: {percent: 20, minRetriesPerSecond: 10, ttl: 10s}
        outlierDetection: {consecutive5xx: 5, baseEjectionTime: 30s, maxEjectionTime: 300s, maxEjectionPercent: 50}
        limits: {maxConcurrentRequests: 100}
        rateLimit: {tokens: 10, tokensPerFill: 1, fillInterval: 1s}
        faultInjection:
          delay: {percent: 1, fixedDelay: 1s}
          abort: {percent: 1, httpStatus: 503}
        loadBalancer: ROUND_ROBIN
      """;

  static CustomResourceDefinition crd() throws IOException {
    try (InputStream in = Files.newInputStream(CRD)) {
      return new KubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
    }
  }

  private static void schemaPaths(String prefix, JSONSchemaProps props, Set<String> out) {
    if (props.getProperties() != null) {
      props.getProperties().forEach((k, v) -> {
        out.add(prefix + k);
        schemaPaths(prefix + k + ".", v, out);
      });
    }
    if (props.getItems() != null && props.getItems().getSchema() != null) {
      schemaPaths(prefix, props.getItems().getSchema(), out);
    }
  }

  private static void manifestPaths(String prefix, JsonNode node, Set<String> out) {
    if (node.isObject()) {
      node.properties().forEach(e -> {
        out.add(prefix + e.getKey());
        manifestPaths(prefix + e.getKey() + ".", e.getValue(), out);
      });
    } else if (node.isArray()) {
      node.forEach(item -> manifestPaths(prefix, item, out));
    }
  }

  @Test
  void crd_names_match_the_resource_class() throws IOException {
    CustomResourceDefinition crd = crd();
    TrafficPolicyResource resource = new TrafficPolicyResource();

    assertThat(crd.getMetadata().getName()).isEqualTo(CustomResource.getCRDName(TrafficPolicyResource.class));
    assertThat(crd.getSpec().getGroup()).isEqualTo(resource.getGroup());
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(resource.getKind());
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(resource.getPlural());
    assertThat(crd.getSpec().getNames().getSingular()).isEqualTo(resource.getSingular());
    assertThat(crd.getSpec().getScope()).isEqualTo(resource.getScope());
    assertThat(crd.getSpec().getVersions()).singleElement().satisfies(v -> assertThat(v.getName()).isEqualTo(resource.getVersion()));
  }

  @Test
  void the_schema_has_exactly_the_fields_the_reader_knows() throws IOException {
    TrafficPolicy read = TrafficPolicyManifest.parse(EVERY_FIELD, "every-field.yaml");
    assertThat(read.retry()).isPresent();
    assertThat(read.faults().orElseThrow().delay()).isNotNull();

    Set<String> schema = new TreeSet<>();
    schemaPaths("", crd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
        .getProperties().get("spec"), schema);
    Set<String> manifest = new TreeSet<>();
    manifestPaths("", new ObjectMapper(new YAMLFactory()).readTree(EVERY_FIELD).get("spec"), manifest);

    assertThat(schema).isEqualTo(manifest);
  }

  @Test
  void the_schema_offers_the_model_load_balancers() throws IOException {
    JSONSchemaProps lb = crd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
        .getProperties().get("spec").getProperties().get("loadBalancer");

    assertThat(lb.getEnum()).extracting(JsonNode::asText)
        .containsExactly(java.util.Arrays.stream(TrafficPolicy.LoadBalancer.values()).map(Enum::name).toArray(String[]::new));
  }
}

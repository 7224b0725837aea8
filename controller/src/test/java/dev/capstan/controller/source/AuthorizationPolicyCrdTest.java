package dev.capstan.controller.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The chart's CRD and the Java class that reads the resource describe the same thing. */
class AuthorizationPolicyCrdTest {

  static final Path CRD = Path.of("..", "charts", "capstan", "crds", "authorizationpolicies.capstan.dev.yaml");

  static CustomResourceDefinition crd() throws IOException {
    try (InputStream in = Files.newInputStream(CRD)) {
      return new KubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
    }
  }

  private static String[] components(Class<? extends Record> type) {
    return Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).sorted().toArray(String[]::new);
  }

  @Test
  void crd_names_match_the_resource_class() throws IOException {
    CustomResourceDefinition crd = crd();
    AuthorizationPolicyResource resource = new AuthorizationPolicyResource();

    assertThat(crd.getMetadata().getName()).isEqualTo(CustomResource.getCRDName(AuthorizationPolicyResource.class));
    assertThat(crd.getSpec().getGroup()).isEqualTo(resource.getGroup());
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(resource.getKind());
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(resource.getPlural());
    assertThat(crd.getSpec().getNames().getSingular()).isEqualTo(resource.getSingular());
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced").isEqualTo(resource.getScope());
    assertThat(crd.getSpec().getVersions()).extracting(CustomResourceDefinitionVersion::getName)
        .containsExactly(resource.getVersion());
    assertThat(crd.getSpec().getVersions().get(0).getServed()).isTrue();
    assertThat(crd.getSpec().getVersions().get(0).getStorage()).isTrue();
  }

  @Test
  void schema_fields_and_bounds_match_the_spec_records() throws IOException {
    JSONSchemaProps spec = crd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
        .getProperties().get("spec");
    JSONSchemaProps selector = spec.getProperties().get("selector");
    JSONSchemaProps matchLabels = selector.getProperties().get("matchLabels");
    JSONSchemaProps rules = spec.getProperties().get("rules");
    JSONSchemaProps rule = rules.getItems().getSchema();

    assertThat(spec.getProperties().keySet()).containsExactlyInAnyOrder(components(AuthorizationPolicySpec.class));
    assertThat(selector.getProperties().keySet())
        .containsExactlyInAnyOrder(components(AuthorizationPolicySpec.Selector.class));
    assertThat(rule.getProperties().keySet()).containsExactlyInAnyOrder(components(AuthorizationPolicySpec.Rule.class));

    assertThat(spec.getProperties().get("action").getEnum()).extracting(JsonNode::asText).containsExactly("ALLOW", "DENY");
    assertThat(spec.getProperties().get("action").getDefault().asText()).isEqualTo("ALLOW");
    assertThat(matchLabels.getMaxProperties()).isEqualTo(AuthorizationPolicySpec.MAX_ITEMS);
    assertThat(matchLabels.getAdditionalProperties().getSchema().getMaxLength())
        .isEqualTo(AuthorizationPolicySpec.MAX_LABEL_VALUE_LENGTH);
    assertThat(rules.getMaxItems()).isEqualTo(AuthorizationPolicySpec.MAX_RULES);
    JSONSchemaProps targetRef = spec.getProperties().get("targetRefs").getItems().getSchema();
    assertThat(targetRef.getProperties().keySet())
        .containsExactlyInAnyOrder(components(AuthorizationPolicySpec.TargetRef.class));
    assertThat(targetRef.getProperties().get("kind").getEnum()).extracting(JsonNode::asText).containsExactly("Service");
    assertThat(spec.getProperties().get("targetRefs").getMaxItems()).isEqualTo(AuthorizationPolicySpec.MAX_ITEMS);
    assertThat(spec.getXKubernetesValidations()).singleElement()
        .satisfies(v -> assertThat(v.getRule()).contains("selector").contains("targetRefs"));
    assertThat(rule.getProperties().get("headers").getMaxProperties()).isEqualTo(AuthorizationPolicySpec.MAX_ITEMS);
    for (String l7 : new String[] {"paths", "methods"}) {
      assertThat(rule.getProperties().get(l7).getItems().getSchema().getMaxLength()).as(l7)
          .isEqualTo(AuthorizationPolicySpec.MAX_L7_LENGTH);
    }
    for (String list : new String[] {"principals", "namespaces", "ports", "paths", "methods"}) {
      assertThat(rule.getProperties().get(list).getMaxItems()).as(list).isEqualTo(AuthorizationPolicySpec.MAX_ITEMS);
    }
    assertThat(rule.getProperties().get("principals").getItems().getSchema().getMaxLength())
        .isEqualTo(AuthorizationPolicySpec.MAX_PRINCIPAL_LENGTH);
    JSONSchemaProps port = rule.getProperties().get("ports").getItems().getSchema();
    assertThat(port.getType()).isEqualTo("integer");
    assertThat(port.getMinimum()).isEqualTo(1.0);
    assertThat(port.getMaximum()).isEqualTo(65535.0);
  }
}

package dev.capstan.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart's example resources (charts/capstan/examples) validate against the OpenAPI schemas of
 * the CRDs the chart installs; the invalid ones are refused naming the field. Validation is
 * strict below {@code spec} (an unknown field is an error, as {@code kubectl --validate=strict}).
 * CEL rules ({@code x-kubernetes-validations}) are {@link CelRulesTest}'s.
 */
class CrdExamplesTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path EXAMPLES = Helm.CHART.resolve("examples");
  private static final Map<String, JsonSchema> SCHEMAS = new HashMap<>();

  @BeforeAll
  static void loadSchemas() throws IOException {
    JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4);
    try (Stream<Path> crds = Files.list(Helm.CHART.resolve("crds"))) {
      for (Path file : crds.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        CustomResourceDefinition crd = Rendered.SERIALIZATION.unmarshal(Files.readString(file),
            CustomResourceDefinition.class);
        for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
          ObjectNode schema = (ObjectNode) Rendered.SERIALIZATION.convertValue(v.getSchema().getOpenAPIV3Schema(),
              JsonNode.class);
          strict(schema.path("properties").path("spec"));
          SCHEMAS.put(crd.getSpec().getGroup() + "/" + v.getName() + "/" + crd.getSpec().getNames().getKind(),
              factory.getSchema(schema));
        }
      }
    }
  }

  /** Closes every object schema that lists its properties (and does not preserve unknown fields). */
  private static void strict(JsonNode schema) {
    if (schema instanceof ObjectNode o) {
      if (o.has("properties") && !o.has("additionalProperties")
          && !o.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
        o.put("additionalProperties", false);
      }
      o.path("properties").forEach(CrdExamplesTest::strict);
      strict(o.path("items"));
      if (o.path("additionalProperties").isObject()) {
        strict(o.path("additionalProperties"));
      }
    }
  }

  static Stream<Arguments> validExamples() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      List<Path> all = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(all).hasSizeGreaterThanOrEqualTo(3);
      return all.stream().map(p -> Arguments.of(p.getFileName().toString()));
    }
  }

  static Stream<Arguments> invalidExamples() {
    return Stream.of(
        Arguments.of("invalid/authorizationpolicy-bad-principal.yaml", "$.spec.rules[0].principals[0]"),
        Arguments.of("invalid/trafficpolicy-unknown-balancer.yaml", "$.spec.loadBalancer"),
        Arguments.of("invalid/waypoint-too-many-replicas.yaml", "$.spec.replicas"));
  }

  private static Set<ValidationMessage> validate(Path file) throws IOException {
    JsonNode resource = YAML.readTree(file.toFile());
    String apiVersion = resource.path("apiVersion").asText();
    JsonSchema schema = SCHEMAS.get(apiVersion + "/" + resource.path("kind").asText());
    assertThat(schema).as(file + ": no CRD in the chart serves " + apiVersion + " " + resource.path("kind").asText())
        .isNotNull();
    return schema.validate(resource);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void anExampleValidatesAgainstItsCrdSchema(String name) throws IOException {
    assertThat(validate(EXAMPLES.resolve(name))).isEmpty();
  }

  @ParameterizedTest(name = "{0} is refused at {1}")
  @MethodSource("invalidExamples")
  void anInvalidExampleIsRefusedNamingTheField(String name, String field) throws IOException {
    assertThat(validate(EXAMPLES.resolve(name))).extracting(ValidationMessage::getMessage)
        .anySatisfy(m -> assertThat(m).startsWith(field));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void anUnknownFieldInAnExamplesSpecIsRefused(String name) throws IOException {
    JsonNode resource = YAML.readTree(EXAMPLES.resolve(name).toFile());
    ((ObjectNode) resource.path("spec")).put("replicaz", 1);
    JsonSchema schema = SCHEMAS.get(resource.path("apiVersion").asText() + "/" + resource.path("kind").asText());

    assertThat(schema.validate(resource)).extracting(ValidationMessage::getMessage)
        .anySatisfy(m -> assertThat(m).contains("replicaz"));
  }
}

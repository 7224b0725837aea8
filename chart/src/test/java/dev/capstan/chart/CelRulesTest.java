package dev.capstan.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRDs' CEL rules ({@code x-kubernetes-validations}) compile, hold for every valid example
 * and are broken by the invalid examples written for them, with the rule's message. Evaluated with
 * cel-java's standard environment ({@code has}, {@code duration}, comparisons), which is the part
 * of Kubernetes' CEL these rules use.
 */
class CelRulesTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path EXAMPLES = Helm.CHART.resolve("examples");
  private static final Cel CEL = CelFactory.standardCelBuilder()
      .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
      .addVar("self", SimpleType.DYN)
      .build();

  /** A rule where it sits in a CRD's schema. */
  record Rule(String crd, String path, String rule, String message) {}

  /** What a rule said about one value. */
  record Verdict(Rule rule, String at, boolean holds) {}

  private static List<Rule> rules() throws IOException {
    List<Rule> out = new ArrayList<>();
    try (Stream<Path> crds = Files.list(Helm.CHART.resolve("crds"))) {
      for (Path file : crds.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        JsonNode crd = YAML.readTree(file.toFile());
        String kind = crd.path("spec").path("names").path("kind").asText();
        for (JsonNode version : crd.path("spec").path("versions")) {
          collect(kind, "$", version.path("schema").path("openAPIV3Schema"), out);
        }
      }
    }
    return out;
  }

  private static void collect(String kind, String path, JsonNode schema, List<Rule> out) {
    for (JsonNode v : schema.path("x-kubernetes-validations")) {
      out.add(new Rule(kind, path, v.path("rule").asText(), v.path("message").asText()));
    }
    schema.path("properties").properties().forEach(e -> collect(kind, path + "." + e.getKey(), e.getValue(), out));
    if (schema.has("items")) {
      collect(kind, path + "[*]", schema.path("items"), out);
    }
    if (schema.path("additionalProperties").isObject()) {
      collect(kind, path + ".*", schema.path("additionalProperties"), out);
    }
  }

  /** Every rule of the resource's kind, evaluated on each value its path reaches. */
  private static List<Verdict> evaluate(JsonNode resource) throws Exception {
    List<Verdict> out = new ArrayList<>();
    for (Rule r : rules()) {
      if (!r.crd().equals(resource.path("kind").asText())) {
        continue;
      }
      for (Map.Entry<String, JsonNode> at : reach(resource, r.path()).entrySet()) {
        Object result = CEL.createProgram(CEL.compile(r.rule()).getAst()).eval(Map.of("self", plain(at.getValue())));
        out.add(new Verdict(r, at.getKey(), Boolean.TRUE.equals(result)));
      }
    }
    return out;
  }

  /** The values at a rule's path ({@code $.spec.rules[*].x}); absent parts reach nothing. */
  private static Map<String, JsonNode> reach(JsonNode root, String path) {
    Map<String, JsonNode> current = new LinkedHashMap<>(Map.of("$", root));
    for (String step : path.substring(1).split("(?=\\.)|(?=\\[\\*])")) {
      if (step.isEmpty()) {
        continue;
      }
      Map<String, JsonNode> next = new LinkedHashMap<>();
      current.forEach((where, node) -> {
        if (step.equals("[*]") || step.equals(".*")) {
          int i = 0;
          for (JsonNode child : node) {
            next.put(where + "[" + i++ + "]", child);
          }
        } else if (node.has(step.substring(1))) {
          next.put(where + step, node.get(step.substring(1)));
        }
      });
      current = next;
    }
    return current;
  }

  /** JSON as CEL's Java runtime takes it: maps, lists, longs, doubles, strings, booleans. */
  private static Object plain(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> m = new LinkedHashMap<>();
      node.properties().forEach(e -> m.put(e.getKey(), plain(e.getValue())));
      return m;
    } else if (node.isArray()) {
      List<Object> l = new ArrayList<>();
      node.forEach(e -> l.add(plain(e)));
      return l;
    } else if (node.isIntegralNumber()) {
      return node.asLong();
    } else if (node.isNumber()) {
      return node.asDouble();
    } else if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }

  @Test
  void everyRuleCompilesAndHasAMessage() throws Exception {
    List<Rule> rules = rules();

    assertThat(rules).hasSizeGreaterThanOrEqualTo(4);
    for (Rule r : rules) {
      assertThat(CEL.compile(r.rule()).getAst()).as(r.crd() + " " + r.path() + ": " + r.rule()).isNotNull();
      assertThat(r.message()).as(r.rule()).isNotBlank();
    }
  }

  static Stream<Arguments> validExamples() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream()
          .map(p -> Arguments.of(p.getFileName().toString()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void everyRuleHoldsForAValidExample(String name) throws Exception {
    List<Verdict> verdicts = evaluate(YAML.readTree(EXAMPLES.resolve(name).toFile()));

    assertThat(verdicts).allSatisfy(v -> assertThat(v.holds()).as(v.rule().message() + " at " + v.at()).isTrue());
  }

  @Test
  void theTrafficPolicyExampleMeetsEveryTrafficPolicyRule() throws Exception {
    List<Verdict> verdicts = evaluate(YAML.readTree(EXAMPLES.resolve("trafficpolicy.yaml").toFile()));

    assertThat(verdicts).extracting(v -> v.rule().message()).contains("maxInterval must not be below baseInterval",
        "ttl must be from 1s to 60s", "fillInterval must be at least 50ms");
  }

  static Stream<Arguments> brokenRules() {
    return Stream.of(
        Arguments.of("invalid/trafficpolicy-fill-too-fast.yaml", "fillInterval must be at least 50ms"),
        Arguments.of("invalid/trafficpolicy-backoff-inverted.yaml", "maxInterval must not be below baseInterval"),
        Arguments.of("invalid/authorizationpolicy-selector-and-targets.yaml", "selector and targetRefs are exclusive"));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("brokenRules")
  void anExampleBreakingARuleIsRefusedWithItsMessage(String name, String message) throws Exception {
    List<Verdict> verdicts = evaluate(YAML.readTree(EXAMPLES.resolve(name).toFile()));

    assertThat(verdicts).filteredOn(v -> !v.holds()).extracting(v -> v.rule().message()).containsExactly(message);
  }
}

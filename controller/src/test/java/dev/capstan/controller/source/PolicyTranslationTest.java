package dev.capstan.controller.source;

import static dev.capstan.controller.source.Fixtures.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec.TargetRef;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.TrafficPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/** L7 AuthorizationPolicies, targeted policies and TrafficPolicies from resources into the mesh, and the WARN lines that name what is off. */
class PolicyTranslationTest {

  private static final List<Namespace> NAMESPACES = List.of(
      new NamespaceBuilder().withNewMetadata().withName("shop").addToLabels(Translator.MESH_LABEL, Translator.MESH_ENABLED)
          .endMetadata().build(),
      new NamespaceBuilder().withNewMetadata().withName("plain").endMetadata().build());
  private static final String WEB = "spiffe://cluster.local/ns/shop/sa/web";
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void captureLogs() {
    logs.start();
    for (Class<?> c : new Class<?>[] {Translator.class, TrafficPolicyTranslator.class}) {
      Logger logger = (Logger) LoggerFactory.getLogger(c);
      logger.addAppender(logs);
      logger.setLevel(Level.INFO);
    }
  }

  @AfterEach
  void releaseLogs() {
    for (Class<?> c : new Class<?>[] {Translator.class, TrafficPolicyTranslator.class}) {
      ((Logger) LoggerFactory.getLogger(c)).detachAppender(logs);
    }
  }

  private List<String> warnings() {
    return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
  }

  private static MeshSnapshot translate(List<dev.capstan.controller.source.crd.AuthorizationPolicyResource> policies,
      List<TrafficPolicyResource> trafficPolicies) {
    return Translator.translate(new Resources(NAMESPACES, List.of(), List.of(), List.of(), policies, trafficPolicies,
        List.of(), List.of()));
  }

  private static AuthorizationPolicySpec.Rule l7(List<String> principals, List<String> paths, List<String> methods,
      Map<String, List<String>> headers) {
    return new AuthorizationPolicySpec.Rule(principals, null, null, paths, methods, headers);
  }

  private static AuthorizationPolicySpec spec(Map<String, String> selector, String action, List<TargetRef> targets,
      AuthorizationPolicySpec.Rule... rules) {
    return new AuthorizationPolicySpec(selector == null ? null : new AuthorizationPolicySpec.Selector(selector), action,
        List.of(rules), targets);
  }

  private static final List<TargetRef> REVIEWS = List.of(new TargetRef(null, "Service", "reviews"));

  static Stream<Arguments> authorizationPolicies() {
    return Stream.of(
        argumentSet("targeted policy keeps its L7 rule and its targets",
            policy("shop", "p", spec(null, "ALLOW", REVIEWS,
                l7(List.of(WEB), List.of("/api/*"), List.of("GET"), Map.of("x-tenant", List.of("gold"))))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.ALLOW, List.of(new PolicyRule(List.of(WEB), List.of(),
                List.of(), List.of("/api/*"), List.of("GET"), Map.of("x-tenant", List.of("gold")))), List.of("reviews")),
            null),
        argumentSet("selector-bound policy with L7 fields is kept for the node agents, with a WARN naming it",
            policy("shop", "l7-at-l4", spec(Map.of("app", "reviews"), "ALLOW", null, l7(null, List.of("/admin"), null, null))),
            new AuthorizationPolicy("shop", "l7-at-l4", Map.of("app", "reviews"), PolicyAction.ALLOW,
                List.of(new PolicyRule(List.of(), List.of(), List.of(), List.of("/admin"), List.of(), Map.of()))),
            "AuthorizationPolicy shop/l7-at-l4 is enforced by node agents at L4 only"),
        argumentSet("a DENY with L7 fields at L4 says it matches on its L4 fields alone",
            policy("shop", "no-deletes", spec(null, "DENY", null, l7(List.of(WEB), null, List.of("DELETE"), null))),
            new AuthorizationPolicy("shop", "no-deletes", Map.of(), PolicyAction.DENY,
                List.of(new PolicyRule(List.of(WEB), List.of(), List.of(), List.of(), List.of("DELETE"), Map.of()))),
            "those DENY rules match on their principals, namespaces and ports alone"),
        argumentSet("selector and targetRefs: the selector is ignored with a WARN",
            policy("shop", "both", spec(Map.of("app", "x"), "DENY", REVIEWS, l7(null, List.of("/x"), null, null))),
            new AuthorizationPolicy("shop", "both", Map.of(), PolicyAction.DENY,
                List.of(new PolicyRule(List.of(), List.of(), List.of(), List.of("/x"), List.of(), Map.of())), List.of("reviews")),
            "AuthorizationPolicy shop/both: selector ignored"),
        argumentSet("a targetRef that is not a Service is dropped, and a policy left with none is left out",
            policy("shop", "gw", spec(null, "ALLOW", List.of(new TargetRef("gateway.networking.k8s.io", "Gateway", "gw")))),
            null, "AuthorizationPolicy shop/gw: none of its targetRefs is a Service"),
        argumentSet("ALLOW rule with an invalid path is dropped (allows nothing)",
            policy("shop", "p", spec(null, "ALLOW", REVIEWS, l7(null, List.of("no-slash"), null, null),
                l7(null, List.of("/ok"), null, null))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.ALLOW,
                List.of(new PolicyRule(List.of(), List.of(), List.of(), List.of("/ok"), List.of(), Map.of())), List.of("reviews")),
            null),
        argumentSet("DENY rule loses an invalid method and header (denies more)",
            policy("shop", "p", spec(null, "DENY", REVIEWS, l7(null, List.of("/admin*"), List.of("GET PUT"),
                Map.of("bad header", List.of("x"))))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.DENY,
                List.of(new PolicyRule(List.of(), List.of(), List.of(), List.of("/admin*"), List.of(), Map.of())), List.of("reviews")),
            null));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("authorizationPolicies")
  void authorization_policy_resource_becomes_model_policy(dev.capstan.controller.source.crd.AuthorizationPolicyResource resource,
      AuthorizationPolicy expected, String warning) {
    MeshSnapshot snapshot = translate(List.of(resource), List.of());

    if (expected == null) {
      assertThat(snapshot.policies()).isEmpty();
    } else {
      assertThat(snapshot.policies()).containsExactly(expected);
    }
    if (warning == null) {
      assertThat(warnings()).isEmpty();
    } else {
      assertThat(warnings()).anySatisfy(w -> assertThat(w).contains(warning));
    }
  }

  static TrafficPolicyResource trafficPolicy(String namespace, String name, String spec) {
    return SERIALIZATION.unmarshal("""
        apiVersion: capstan.dev/v1alpha1
        kind: TrafficPolicy
        metadata: {name: %s, namespace: %s, creationTimestamp: "2026-11-22T10:00:00Z"}
        spec:
        %s""".formatted(name, namespace, spec.indent(2)), TrafficPolicyResource.class);
  }

  @Test
  void traffic_policies_of_enrolled_namespaces_are_read_into_the_mesh() {
    MeshSnapshot snapshot = translate(List.of(), List.of(
        trafficPolicy("shop", "reviews", """
            targetRefs: [{kind: Service, name: reviews}]
            retry: {attempts: 1, retryOn: [gateway-error], budget: {percent: 10}}
            loadBalancer: ROUND_ROBIN
            """),
        trafficPolicy("plain", "ignored", "{}")));

    assertThat(snapshot.trafficPolicies()).singleElement().satisfies(p -> {
      assertThat(p.key()).isEqualTo("shop/reviews");
      assertThat(p.createdAt()).isEqualTo(1_795_341_600L);
      assertThat(p.targets()).containsExactly("reviews");
      assertThat(p.retry().orElseThrow().budget()).isEqualTo(new TrafficPolicy.Budget(10, 10, Duration.ofSeconds(10)));
      assertThat(p.loadBalancer()).isEqualTo(TrafficPolicy.LoadBalancer.ROUND_ROBIN);
    });
    assertThat(warnings()).isEmpty();
  }

  @Test
  void a_bad_traffic_policy_is_left_out_with_a_warning_naming_the_field_and_the_others_go_on() {
    MeshSnapshot snapshot = translate(List.of(), List.of(
        trafficPolicy("shop", "bad", "retry: {budget: {percent: 150}}"),
        trafficPolicy("shop", "good", "limits: {maxConcurrentRequests: 10}")));

    assertThat(snapshot.trafficPolicies()).extracting(TrafficPolicy::name).containsExactly("good");
    assertThat(warnings()).singleElement().asString()
        .startsWith("TrafficPolicy shop/bad: spec.retry.budget.percent must be between 0 and 100, got 150");
  }

  @Test
  void a_changed_traffic_policy_changes_the_mesh_version() {
    String v1 = translate(List.of(), List.of(trafficPolicy("shop", "p", "limits: {maxConcurrentRequests: 10}"))).version();
    String same = translate(List.of(), List.of(trafficPolicy("shop", "p", "limits: {maxConcurrentRequests: 10}"))).version();
    String v2 = translate(List.of(), List.of(trafficPolicy("shop", "p", "limits: {maxConcurrentRequests: 11}"))).version();
    String none = translate(List.of(), List.of()).version();

    assertThat(same).isEqualTo(v1);
    assertThat(v2).isNotEqualTo(v1);
    assertThat(none).isNotEqualTo(v1).isNotEqualTo(v2);
  }
}

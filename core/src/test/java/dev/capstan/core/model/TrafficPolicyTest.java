package dev.capstan.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.model.TrafficPolicy.Budget;
import dev.capstan.core.model.TrafficPolicy.Retry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which TrafficPolicy applies to a service, and the model's own checks. */
class TrafficPolicyTest {

  private static TrafficPolicy policy(String ns, String name, long created, String... targets) {
    return new TrafficPolicy(ns, name, created, List.of(targets), null, null, null, null, null, null);
  }

  private final List<TrafficPolicy> policies = List.of(
      policy("shop", "wide-new", 20),
      policy("shop", "wide-old", 10),
      policy("shop", "reviews-b", 30, "reviews"),
      policy("shop", "reviews-a", 30, "reviews", "ratings"),
      policy("shop", "ratings-old", 5, "ratings"),
      policy("other", "reviews", 1, "reviews"));

  @Test
  void a_policy_naming_the_service_wins_over_a_namespace_wide_one() {
    assertThat(TrafficPolicy.select(policies, "shop", "reviews")).map(TrafficPolicy::name).contains("reviews-a");
  }

  @Test
  void among_policies_naming_the_service_the_oldest_wins() {
    assertThat(TrafficPolicy.select(policies, "shop", "ratings")).map(TrafficPolicy::name).contains("ratings-old");
  }

  @Test
  void a_service_nobody_names_gets_the_oldest_namespace_wide_policy() {
    assertThat(TrafficPolicy.select(policies, "shop", "cart")).map(TrafficPolicy::name).contains("wide-old");
  }

  @Test
  void policies_of_other_namespaces_never_apply() {
    assertThat(TrafficPolicy.select(policies, "legacy", "reviews")).isEmpty();
    assertThat(TrafficPolicy.select(policies, "other", "cart")).isEmpty();
  }

  @Test
  void the_model_refuses_what_the_manifest_would() {
    assertThatThrownBy(() -> new Budget(101, 1, Duration.ofSeconds(10))).hasMessageContaining("percent");
    assertThatThrownBy(() -> new Retry(1, List.of("teapot"), null, null, null, null)).hasMessageContaining("teapot");
    assertThat(new Retry(1, List.of(" 5XX "), null, null, null, null).retryOn()).containsExactly("5xx");
  }
}

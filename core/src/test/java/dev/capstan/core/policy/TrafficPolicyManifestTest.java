package dev.capstan.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.TrafficPolicy.Abort;
import dev.capstan.core.model.TrafficPolicy.Budget;
import dev.capstan.core.model.TrafficPolicy.Delay;
import dev.capstan.core.model.TrafficPolicy.Limits;
import dev.capstan.core.model.TrafficPolicy.LoadBalancer;
import dev.capstan.core.model.TrafficPolicy.Outlier;
import dev.capstan.core.model.TrafficPolicy.RateLimit;
import dev.capstan.core.model.TrafficPolicy.Retry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** TrafficPolicy manifests into the model: every part, the defaults, and one named case per kind of bad input. */
class TrafficPolicyManifestTest {

  private static final String FULL = """
      apiVersion: capstan.dev/v1alpha1
      kind: TrafficPolicy
      metadata:
        name: reviews
        namespace: shop
        creationTimestamp: "2026-11-22T10:00:00Z"
      spec:
        targetRefs:
        - {group: "", kind: Service, name: reviews}
        - {kind: Service, name: ratings}
        retry:
          attempts: 3
          retryOn: [5xx, Gateway-Error, "429", 500-504]
          perTryTimeout: 500ms
          backoff: {baseInterval: 10ms, maxInterval: 1s}
          budget: {percent: 12.5, minRetriesPerSecond: 3, ttl: 20s}
        outlierDetection: {consecutive5xx: 7, baseEjectionTime: 10s, maxEjectionTime: 100s, maxEjectionPercent: 30}
        limits: {maxConcurrentRequests: 250}
        rateLimit: {tokens: 100, tokensPerFill: 10, fillInterval: 1s}
        faultInjection:
          delay: {percent: 0.5, fixedDelay: 2s}
          abort: {percent: 5, httpStatus: 503}
        loadBalancer: ROUND_ROBIN
      """;

  private static String withSpec(String spec) {
    return """
        apiVersion: capstan.dev/v1alpha1
        kind: TrafficPolicy
        metadata: {name: p, namespace: shop}
        spec:
        """ + spec.indent(2);
  }

  @Test
  void every_part_reads_into_the_model() {
    TrafficPolicy p = TrafficPolicyManifest.parse(FULL, "reviews.yaml");

    assertThat(p.key()).isEqualTo("shop/reviews");
    assertThat(p.createdAt()).isEqualTo(1_795_341_600L);
    assertThat(p.targets()).containsExactly("ratings", "reviews");
    assertThat(p.retry()).contains(new Retry(3, List.of("5xx", "gateway-error", "429", "500-504"),
        Duration.ofMillis(500), Duration.ofMillis(10), Duration.ofSeconds(1), new Budget(12.5, 3, Duration.ofSeconds(20))));
    assertThat(p.outlier()).contains(new Outlier(7, Duration.ofSeconds(10), Duration.ofSeconds(100), 30));
    assertThat(p.limits()).contains(new Limits(250));
    assertThat(p.rateLimit()).contains(new RateLimit(100, 10, Duration.ofSeconds(1)));
    assertThat(p.faults().orElseThrow().delay()).isEqualTo(new Delay(0.5, Duration.ofSeconds(2)));
    assertThat(p.faults().orElseThrow().abort()).isEqualTo(new Abort(5, 503));
    assertThat(p.loadBalancer()).isEqualTo(LoadBalancer.ROUND_ROBIN);
  }

  @Test
  void an_empty_spec_targets_the_namespace_and_changes_nothing() {
    TrafficPolicy p = TrafficPolicyManifest.parse(withSpec("{}"), "p.yaml");

    assertThat(p.namespaceWide()).isTrue();
    assertThat(List.of(p.retry(), p.outlier(), p.limits(), p.rateLimit(), p.faults())).allMatch(Optional::isEmpty);
    assertThat(p.loadBalancer()).isEqualTo(LoadBalancer.PEAK_EWMA);
  }

  @Test
  void an_empty_retry_gets_istio_conditions_and_linkerd_budget() {
    TrafficPolicy p = TrafficPolicyManifest.parse(withSpec("retry: {}"), "p.yaml");

    assertThat(p.retry()).contains(Retry.defaults());
    assertThat(Retry.defaults().attempts()).isEqualTo(2);
    assertThat(Retry.defaults().retryOn()).containsExactly("connect-failure", "reset", "503");
    assertThat(Retry.defaults().perTryTimeout()).isNull();
    assertThat(Retry.defaults().budget()).isEqualTo(new Budget(20, 10, Duration.ofSeconds(10)));
  }

  @Test
  void backoff_max_defaults_to_ten_times_the_base_and_a_zero_per_try_timeout_is_none() {
    TrafficPolicy p = TrafficPolicyManifest.parse(withSpec("retry: {perTryTimeout: 0s, backoff: {baseInterval: 40ms}}"), "p.yaml");

    assertThat(p.retry().orElseThrow().backoffMax()).isEqualTo(Duration.ofMillis(400));
    assertThat(p.retry().orElseThrow().perTryTimeout()).isNull();
  }

  @Test
  void partial_parts_take_their_defaults() {
    TrafficPolicy p = TrafficPolicyManifest.parse(withSpec("""
        outlierDetection: {consecutive5xx: 3}
        rateLimit: {tokens: 20, fillInterval: 100ms}
        faultInjection: {abort: {httpStatus: 500}}
        loadBalancer: RoundRobin
        """), "p.yaml");

    assertThat(p.outlier()).contains(new Outlier(3, Duration.ofSeconds(30), Duration.ofSeconds(300), 50));
    assertThat(p.rateLimit()).contains(new RateLimit(20, 20, Duration.ofMillis(100)));
    assertThat(p.faults().orElseThrow().abort()).isEqualTo(new Abort(100, 500));
    assertThat(p.faults().orElseThrow().delay()).isNull();
    assertThat(p.loadBalancer()).isEqualTo(LoadBalancer.ROUND_ROBIN);
  }

  @Test
  void consecutive_5xx_of_zero_turns_outlier_detection_off() {
    TrafficPolicy p = TrafficPolicyManifest.parse(withSpec("outlierDetection: {consecutive5xx: 0}"), "p.yaml");

    assertThat(p.outlier().orElseThrow().enabled()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      negative attempts              | retry: {attempts: -1}                                   | p.yaml: spec.retry.attempts must be between 0 and 10, got -1
      unknown retry condition        | 'retry: {retryOn: [5xx, teapot]}'                       | p.yaml: spec.retry.retryOn[1]: 'teapot' is not a retry condition
      status out of range            | 'retry: {retryOn: [\"600\"]}'                           | p.yaml: spec.retry.retryOn[0]: '600' is not a retry condition
      inverted status range          | 'retry: {retryOn: [504-500]}'                           | p.yaml: spec.retry.retryOn[0]: '504-500' is not a retry condition
      empty retryOn                  | 'retry: {retryOn: []}'                                  | p.yaml: spec.retry.retryOn must name at least one condition
      retryOn not a list             | 'retry: {retryOn: 5xx}'                                 | p.yaml: spec.retry.retryOn must be a list
      malformed duration             | retry: {perTryTimeout: 1m30s}                           | p.yaml: spec.retry.perTryTimeout must be a duration like 500ms, 30s, 5m or 1h, got '1m30s'
      zero backoff                   | 'retry: {backoff: {baseInterval: 0ms}}'                 | p.yaml: spec.retry.backoff.baseInterval must be more than zero, got '0ms'
      backoff max under base         | 'retry: {backoff: {baseInterval: 1s, maxInterval: 10ms}}' | p.yaml: spec.retry.backoff.maxInterval must not be shorter than baseInterval (1000ms)
      budget over 100 percent        | 'retry: {budget: {percent: 120}}'                       | p.yaml: spec.retry.budget.percent must be between 0 and 100, got 120
      budget percent not a number    | 'retry: {budget: {percent: lots}}'                      | p.yaml: spec.retry.budget.percent must be a number, got 'lots'
      negative retry floor           | 'retry: {budget: {minRetriesPerSecond: -5}}'            | p.yaml: spec.retry.budget.minRetriesPerSecond must be between 0 and 100000, got -5
      budget ttl too long            | 'retry: {budget: {ttl: 5m}}'                            | p.yaml: spec.retry.budget.ttl must be between 1s and 60s, got '5m'
      typo in retry                  | retry: {atempts: 2}                                     | p.yaml: spec.retry.atempts is not a known field
      negative consecutive 5xx       | outlierDetection: {consecutive5xx: -1}                  | p.yaml: spec.outlierDetection.consecutive5xx must be between 0 and 100000, got -1
      ejection percent over 100      | outlierDetection: {maxEjectionPercent: 101}             | p.yaml: spec.outlierDetection.maxEjectionPercent must be between 0 and 100, got 101
      max ejection under base        | 'outlierDetection: {baseEjectionTime: 60s, maxEjectionTime: 30s}' | p.yaml: spec.outlierDetection.maxEjectionTime must not be shorter than baseEjectionTime (60000ms)
      zero concurrent requests       | limits: {maxConcurrentRequests: 0}                      | p.yaml: spec.limits.maxConcurrentRequests must be between 1 and 1000000, got 0
      empty limits                   | limits: {}                                              | p.yaml: spec.limits.maxConcurrentRequests is required
      pending requests unsupported   | limits: {maxPendingRequests: 10}                        | p.yaml: spec.limits.maxPendingRequests is not a known field
      rate limit without tokens      | rateLimit: {fillInterval: 1s}                           | p.yaml: spec.rateLimit.tokens is required
      rate limit without interval    | rateLimit: {tokens: 10}                                 | p.yaml: spec.rateLimit.fillInterval is required
      rate limit interval too short  | 'rateLimit: {tokens: 10, fillInterval: 10ms}'           | p.yaml: spec.rateLimit.fillInterval must be at least 50ms, got '10ms'
      negative tokens per fill       | 'rateLimit: {tokens: 10, tokensPerFill: -1, fillInterval: 1s}' | p.yaml: spec.rateLimit.tokensPerFill must be between 1 and 1000000000, got -1
      delay percent over 100         | 'faultInjection: {delay: {percent: 100.5, fixedDelay: 1s}}' | p.yaml: spec.faultInjection.delay.percent must be between 0 and 100, got 100.5
      delay without duration         | 'faultInjection: {delay: {percent: 10}}'                | p.yaml: spec.faultInjection.delay.fixedDelay is required
      abort status out of range      | 'faultInjection: {abort: {httpStatus: 700}}'            | p.yaml: spec.faultInjection.abort.httpStatus must be between 200 and 599, got 700
      empty fault injection          | faultInjection: {}                                      | p.yaml: spec.faultInjection needs a delay, an abort or both
      unknown load balancer          | loadBalancer: LEAST_REQUEST                             | p.yaml: spec.loadBalancer must be PEAK_EWMA or ROUND_ROBIN, got 'LEAST_REQUEST'
      target not a service           | 'targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]' | p.yaml: spec.targetRefs[0]: only Services of the policy's namespace can be targeted, got gateway.networking.k8s.io/Gateway
      target in another namespace    | 'targetRefs: [{kind: Service, name: a, namespace: other}]' | p.yaml: spec.targetRefs[0].namespace is not a known field
      target without name            | 'targetRefs: [{kind: Service}]'                         | p.yaml: spec.targetRefs[0].name is required
      unknown part                   | circuitBreaker: {}                                      | p.yaml: spec.circuitBreaker is not a known field
      """)
  void bad_input_is_an_error_naming_the_field(String name, String spec, String message) {
    assertThatThrownBy(() -> TrafficPolicyManifest.parse(withSpec(spec), "p.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      wrong api version | 'apiVersion: capstan.dev/v1\\nkind: TrafficPolicy\\nmetadata: {name: p}'           | p.yaml: apiVersion must be capstan.dev/v1alpha1, got 'capstan.dev/v1'
      wrong kind        | 'apiVersion: capstan.dev/v1alpha1\\nkind: DestinationRule\\nmetadata: {name: p}' | p.yaml: kind must be TrafficPolicy, got 'DestinationRule'
      no name           | 'apiVersion: capstan.dev/v1alpha1\\nkind: TrafficPolicy\\nmetadata: {}'          | p.yaml: metadata.name is required
      bad timestamp     | 'apiVersion: capstan.dev/v1alpha1\\nkind: TrafficPolicy\\nmetadata: {name: p, creationTimestamp: yesterday}' | p.yaml: metadata.creationTimestamp must be an RFC 3339 time, got 'yesterday'
      not yaml          | '{{'                                                                            | p.yaml: not valid YAML
      """)
  void a_bad_envelope_is_an_error_naming_the_field(String name, String text, String message) {
    assertThatThrownBy(() -> TrafficPolicyManifest.parse(text.replace("\\n", "\n"), "p.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message);
  }
}

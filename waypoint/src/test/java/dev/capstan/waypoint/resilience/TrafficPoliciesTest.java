package dev.capstan.waypoint.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.TrafficPolicy.Abort;
import dev.capstan.core.model.TrafficPolicy.Budget;
import dev.capstan.core.model.TrafficPolicy.Delay;
import dev.capstan.core.model.TrafficPolicy.Faults;
import dev.capstan.core.model.TrafficPolicy.Limits;
import dev.capstan.core.model.TrafficPolicy.LoadBalancer;
import dev.capstan.core.model.TrafficPolicy.Outlier;
import dev.capstan.core.model.TrafficPolicy.RateLimit;
import dev.capstan.core.model.TrafficPolicy.Retry;
import dev.capstan.waypoint.balance.PeakEwma;
import dev.capstan.waypoint.balance.RoundRobin;
import dev.capstan.waypoint.resilience.ResolvedPolicy.Admission;
import dev.capstan.waypoint.resilience.ResolvedPolicy.Verdict;
import dev.capstan.waypoint.resilience.RetryPolicy.Failure;
import dev.capstan.waypoint.resilience.RetryPolicy.Outcome;
import dev.capstan.waypoint.resilience.RetryPolicy.Reason;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Policies resolved per service, admission order, and state kept across config versions when settings are unchanged. */
class TrafficPoliciesTest {

  private static final long S = TimeUnit.SECONDS.toNanos(1);
  private final AtomicLong clock = new AtomicLong(100 * S);
  private final PeakEwma ewma = new PeakEwma(10 * S, 1_000_000, clock::get);
  private final PolicyStates states = new PolicyStates(clock::get, ewma);

  private static final Retry RETRY = new Retry(2, List.of("5xx"), null, null, null, new Budget(0, 1, Duration.ofSeconds(10)));

  private static TrafficPolicy policy(String name, List<String> targets, Retry retry, Limits limits, RateLimit rate,
      Faults faults, Outlier outlier, LoadBalancer lb) {
    return new TrafficPolicy("shop", name, 0, targets, Optional.ofNullable(retry), Optional.ofNullable(outlier),
        Optional.ofNullable(limits), Optional.ofNullable(rate), Optional.ofNullable(faults), lb);
  }

  @Test
  void a_service_without_a_policy_gets_the_defaults() {
    ResolvedPolicy r = new TrafficPolicies(List.of(), states).forService("shop", "cart");

    assertThat(r.policyName()).isEqualTo("none");
    assertThat(r.retry()).isSameAs(RetryPolicy.NONE);
    assertThat(r.afterTry(1, Outcome.failure(Failure.CONNECT_FAILURE), true, () -> 0).reason()).isEqualTo(Reason.NOT_RETRYABLE);
    assertThat(List.of(r.budget(), r.rateLimit(), r.limit())).allMatch(Optional::isEmpty);
    assertThat(r.outliers()).as("outlier detection is on by default").isPresent();
    assertThat(r.picker()).isSameAs(ewma);
    assertThat(r.admit(() -> 0)).isEqualTo(new Admission(Verdict.FORWARD, 0, 0, false));
  }

  @Test
  void the_policy_naming_the_service_applies_not_the_namespace_wide_one() {
    TrafficPolicies p = new TrafficPolicies(List.of(
        policy("wide", List.of(), null, null, null, null, null, LoadBalancer.PEAK_EWMA),
        policy("reviews", List.of("reviews"), RETRY, null, null, null, null, LoadBalancer.ROUND_ROBIN)), states);

    assertThat(p.forService("shop", "reviews").policyName()).isEqualTo("shop/reviews");
    assertThat(p.forService("shop", "reviews").picker()).isInstanceOf(RoundRobin.class);
    assertThat(p.forService("shop", "cart").policyName()).isEqualTo("shop/wide");
    assertThat(p.forService("shop", "cart").retry()).as("never merged").isSameAs(RetryPolicy.NONE);
    assertThat(p.forService("shop", "reviews")).as("resolved once per version").isSameAs(p.forService("shop", "reviews"));
  }

  @Test
  void admission_checks_the_rate_limit_then_faults_then_the_concurrency_limit() {
    ResolvedPolicy r = new TrafficPolicies(List.of(policy("p", List.of(), RETRY, new Limits(1),
        new RateLimit(3, 1, Duration.ofSeconds(1)), new Faults(new Delay(50, Duration.ofMillis(5)), new Abort(10, 500)),
        null, null)), states).forService("shop", "reviews");

    Admission first = r.admit(() -> 0.3);
    assertThat(first).as("delayed (0.3 < 50%), not aborted (0.3 ≥ 10%), holds the permit")
        .isEqualTo(new Admission(Verdict.FORWARD, 0, 5_000_000, true));
    assertThat(first.flag()).isEqualTo("fault_delay");
    assertThat(r.admit(() -> 0.05)).as("aborted even while the limit is full").isEqualTo(new Admission(Verdict.FAULT_ABORT, 500, 5_000_000, false));
    assertThat(r.admit(() -> 0.9)).isEqualTo(new Admission(Verdict.OVERFLOW, 503, 0, false));
    assertThat(r.admit(() -> 0.9).verdict()).as("the bucket of 3 is empty").isEqualTo(Verdict.RATE_LIMITED);
    assertThat(r.limit().orElseThrow().refusals()).isEqualTo(1);

    r.release(first);
    clock.addAndGet(S);
    assertThat(r.admit(() -> 0.9)).isEqualTo(new Admission(Verdict.FORWARD, 0, 0, true));
  }

  @Test
  void admitted_requests_fund_the_retry_budget() {
    Retry retry = new Retry(1, List.of("503"), null, null, null, new Budget(50, 0, Duration.ofSeconds(10)));
    ResolvedPolicy r = new TrafficPolicies(List.of(policy("p", List.of(), retry, null, null, null, null, null)), states)
        .forService("shop", "reviews");

    assertThat(r.afterTry(1, Outcome.status(503), true, () -> 0).reason()).as("nothing deposited yet").isEqualTo(Reason.BUDGET_EXHAUSTED);
    r.admit(() -> 0);
    r.admit(() -> 0);
    assertThat(r.afterTry(1, Outcome.status(503), true, () -> 0).reason()).isEqualTo(Reason.RETRY);
  }

  @Test
  void state_survives_a_new_config_version_when_the_settings_are_unchanged() {
    RateLimit rate = new RateLimit(2, 1, Duration.ofSeconds(1));
    TrafficPolicy v1 = policy("p", List.of(), RETRY, new Limits(5), rate, null, null, null);
    ResolvedPolicy before = new TrafficPolicies(List.of(v1), states).forService("shop", "reviews");
    before.admit(() -> 0);
    before.admit(() -> 0);
    before.outliers().orElseThrow().observe("e1", true, List.of("e1", "e2"));
    for (int i = 0; i < 4; i++) {
      before.outliers().orElseThrow().observe("e1", true, List.of("e1", "e2"));
    }
    assertThat(before.outliers().orElseThrow().ejected("e1")).isTrue();

    TrafficPolicy v2 = policy("p", List.of("reviews"), RETRY, new Limits(5), rate, null, null, LoadBalancer.ROUND_ROBIN);
    ResolvedPolicy after = new TrafficPolicies(List.of(v2), states).forService("shop", "reviews");

    assertThat(after).isNotSameAs(before);
    assertThat(after.rateLimit()).containsSame(before.rateLimit().orElseThrow());
    assertThat(after.admit(() -> 0).verdict()).as("the bucket was not refilled by the reload").isEqualTo(Verdict.RATE_LIMITED);
    assertThat(after.limit()).containsSame(before.limit().orElseThrow());
    assertThat(after.limit().orElseThrow().inFlight()).isEqualTo(2);
    assertThat(after.budget()).containsSame(before.budget().orElseThrow());
    assertThat(after.outliers().orElseThrow().ejected("e1")).as("ejected endpoints stay out").isTrue();
  }

  @Test
  void changed_settings_start_that_part_afresh_and_leave_the_others() {
    TrafficPolicy v1 = policy("p", List.of(), RETRY, new Limits(5), new RateLimit(1, 1, Duration.ofSeconds(1)), null, null, null);
    ResolvedPolicy before = new TrafficPolicies(List.of(v1), states).forService("shop", "reviews");
    before.admit(() -> 0);

    TrafficPolicy v2 = policy("p", List.of(), RETRY, new Limits(5), new RateLimit(2, 1, Duration.ofSeconds(1)), null,
        new Outlier(3, Duration.ofSeconds(1), Duration.ofSeconds(5), 10), null);
    ResolvedPolicy after = new TrafficPolicies(List.of(v2), states).forService("shop", "reviews");

    assertThat(after.rateLimit().orElseThrow().available()).as("a new bucket, full").isEqualTo(2);
    assertThat(after.limit()).containsSame(before.limit().orElseThrow());
    assertThat(after.outliers().orElseThrow()).isNotSameAs(before.outliers().orElseThrow());
  }

  @Test
  void outlier_detection_can_be_turned_off_and_state_of_gone_services_is_forgotten() {
    ResolvedPolicy off = new TrafficPolicies(List.of(policy("p", List.of("reviews"), null, null, null, null,
        new Outlier(0, Duration.ofSeconds(30), Duration.ofSeconds(300), 50), null)), states).forService("shop", "reviews");
    assertThat(off.outliers()).isEmpty();

    new TrafficPolicies(List.of(), states).forService("shop", "cart");
    new TrafficPolicies(List.of(), states).forService("shop", "gone");
    assertThat(states.size()).isEqualTo(2);
    states.retain(service -> !service.equals("shop/gone"));
    assertThat(states.size()).isEqualTo(1);
  }
}

package dev.capstan.waypoint.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.TrafficPolicy.Budget;
import dev.capstan.core.model.TrafficPolicy.Retry;
import dev.capstan.waypoint.resilience.RetryPolicy.Decision;
import dev.capstan.waypoint.resilience.RetryPolicy.Failure;
import dev.capstan.waypoint.resilience.RetryPolicy.Outcome;
import dev.capstan.waypoint.resilience.RetryPolicy.Reason;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which outcomes retry under which conditions, attempts, replayability, budget, and jittered backoff. */
class RetryPolicyTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private final AtomicLong clock = new AtomicLong();
  private final RetryBudget plenty = new RetryBudget(new Budget(100, 1_000, Duration.ofSeconds(10)), clock::get);

  private static RetryPolicy policy(String... retryOn) {
    return RetryPolicy.of(new Retry(2, List.of(retryOn), Duration.ofMillis(300), Duration.ofMillis(25),
        Duration.ofMillis(250), Budget.DEFAULT));
  }

  private static Outcome outcome(String s) {
    return switch (s) {
      case "connect" -> Outcome.failure(Failure.CONNECT_FAILURE);
      case "reset" -> Outcome.failure(Failure.RESET);
      case "timeout" -> Outcome.failure(Failure.PER_TRY_TIMEOUT);
      default -> Outcome.status(Integer.parseInt(s));
    };
  }

  @ParameterizedTest(name = "retryOn {0}: {1} → {2}")
  @CsvSource(delimiter = '|', textBlock = """
      5xx                     | 500     | true
      5xx                     | 599     | true
      5xx                     | 429     | false
      5xx                     | 200     | false
      5xx                     | connect | true
      5xx                     | reset   | true
      5xx                     | timeout | true
      gateway-error           | 502     | true
      gateway-error           | 504     | true
      gateway-error           | 500     | false
      gateway-error           | reset   | true
      gateway-error           | timeout | true
      reset                   | reset   | true
      reset                   | connect | true
      reset                   | timeout | true
      reset                   | 503     | false
      connect-failure         | connect | true
      connect-failure         | reset   | false
      connect-failure         | timeout | false
      connect-failure         | 503     | false
      503                     | 503     | true
      503                     | 502     | false
      503                     | connect | false
      500-502                 | 501     | true
      500-502                 | 503     | false
      429 500-504             | 429     | true
      connect-failure reset 503 | 503   | true
      connect-failure reset 503 | 500   | false
      """)
  void an_outcome_retries_only_under_the_conditions_named(String retryOn, String outcome, boolean retryable) {
    assertThat(policy(retryOn.split(" ")).retryable(outcome(outcome))).isEqualTo(retryable);
  }

  @Test
  void retries_stop_after_the_attempts_allowed() {
    RetryPolicy p = policy("5xx");

    assertThat(p.decide(1, outcome("503"), true, plenty, () -> 0.5).reason()).isEqualTo(Reason.RETRY);
    assertThat(p.decide(2, outcome("503"), true, plenty, () -> 0.5).reason()).isEqualTo(Reason.RETRY);
    assertThat(p.decide(3, outcome("503"), true, plenty, () -> 0.5).reason()).isEqualTo(Reason.ATTEMPTS_EXHAUSTED);
  }

  @Test
  void a_body_that_cannot_be_sent_again_is_not_retried() {
    assertThat(policy("5xx").decide(1, outcome("503"), false, plenty, () -> 0.5).reason())
        .isEqualTo(Reason.BODY_NOT_REPLAYABLE);
  }

  @Test
  void retries_stop_when_the_budget_is_spent_and_only_real_retries_spend_it() {
    RetryBudget one = new RetryBudget(new Budget(0, 1, Duration.ofSeconds(1)), clock::get);
    RetryPolicy p = policy("503");

    assertThat(p.decide(1, outcome("200"), true, one, () -> 0.5).reason()).isEqualTo(Reason.NOT_RETRYABLE);
    assertThat(p.decide(1, outcome("500"), true, one, () -> 0.5).reason()).isEqualTo(Reason.NOT_RETRYABLE);
    assertThat(p.decide(1, outcome("503"), false, one, () -> 0.5).reason()).isEqualTo(Reason.BODY_NOT_REPLAYABLE);
    assertThat(p.decide(1, outcome("503"), true, one, () -> 0.5).reason()).as("the one retry left").isEqualTo(Reason.RETRY);
    assertThat(p.decide(1, outcome("503"), true, one, () -> 0.5).reason()).isEqualTo(Reason.BUDGET_EXHAUSTED);
  }

  @Test
  void backoff_is_fully_jittered_and_grows_exponentially_to_the_cap() {
    RetryPolicy p = policy("5xx");
    double almostOne = Math.nextDown(1.0);

    long[] ceilings = {p.backoffNanos(1, almostOne), p.backoffNanos(2, almostOne), p.backoffNanos(3, almostOne),
        p.backoffNanos(4, almostOne), p.backoffNanos(40, almostOne)};
    assertThat(Arrays.stream(ceilings).map(n -> (n + MS / 2) / MS).toArray())
        .as("(2^n - 1) × 25 ms, at most 250 ms").containsExactly(25, 75, 175, 250, 250);
    assertThat(p.backoffNanos(3, 0)).isZero();
    assertThat(p.backoffNanos(1, 0.5)).isEqualTo(12_500_000);

    Decision d = p.decide(2, outcome("500"), true, plenty, () -> 0.2);
    assertThat(d.retry()).isTrue();
    assertThat(d.backoffNanos()).as("0.2 of 75 ms").isEqualTo(15 * MS);
  }

  @Test
  void the_per_try_timeout_is_kept_and_none_retries_nothing() {
    assertThat(policy("5xx").perTryTimeoutNanos()).isEqualTo(300 * MS);
    assertThat(RetryPolicy.NONE.retryable(outcome("503"))).isFalse();
    assertThat(RetryPolicy.NONE.retryable(outcome("connect"))).isFalse();
    assertThat(RetryPolicy.NONE.perTryTimeoutNanos()).isZero();
  }
}

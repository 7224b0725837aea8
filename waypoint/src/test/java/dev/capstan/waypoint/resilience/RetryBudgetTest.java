package dev.capstan.waypoint.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.TrafficPolicy.Budget;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Finagle/Linkerd retry budget: a share of requests plus a floor per second, over a window, with an injected clock. */
class RetryBudgetTest {

  private static final long S = TimeUnit.SECONDS.toNanos(1);
  private final AtomicLong clock = new AtomicLong(5_000 * S);

  private RetryBudget budget(double percent, int minPerSecond, int ttlSeconds) {
    return new RetryBudget(new Budget(percent, minPerSecond, Duration.ofSeconds(ttlSeconds)), clock::get);
  }

  private static int withdrawals(RetryBudget b, int atMost) {
    int n = 0;
    while (n < atMost && b.tryWithdraw()) {
      n++;
    }
    return n;
  }

  @Test
  void retries_stop_when_the_budget_is_spent() {
    RetryBudget b = budget(20, 0, 10);
    for (int i = 0; i < 10; i++) {
      b.deposit();
    }

    assertThat(b.available()).isEqualTo(2);
    assertThat(withdrawals(b, 100)).as("20% of 10 requests").isEqualTo(2);
    assertThat(b.tryWithdraw()).isFalse();

    for (int i = 0; i < 5; i++) {
      b.deposit();
    }
    assertThat(withdrawals(b, 100)).as("five more requests earn one more retry").isEqualTo(1);
  }

  @Test
  void the_floor_allows_retries_without_traffic() {
    RetryBudget b = budget(20, 10, 10);

    assertThat(withdrawals(b, 1_000)).as("10 a second over 10 s").isEqualTo(100);
  }

  @Test
  void deposits_expire_after_the_ttl() {
    RetryBudget b = budget(50, 0, 10);
    for (int i = 0; i < 4; i++) {
      b.deposit();
    }
    clock.addAndGet(9 * S);
    assertThat(b.available()).as("still in the window at 9 s").isEqualTo(2);

    clock.addAndGet(S);
    assertThat(b.available()).as("gone after the ttl").isZero();
    assertThat(b.tryWithdraw()).isFalse();
  }

  @Test
  void the_floor_comes_back_as_withdrawals_leave_the_window() {
    RetryBudget b = budget(0, 1, 10);
    assertThat(withdrawals(b, 100)).isEqualTo(10);

    clock.addAndGet(5 * S);
    assertThat(b.tryWithdraw()).as("the withdrawals still count at 5 s").isFalse();

    clock.addAndGet(5 * S);
    assertThat(withdrawals(b, 100)).isEqualTo(10);
  }

  @Test
  void a_share_of_zero_leaves_only_the_floor() {
    RetryBudget b = budget(0, 2, 1);
    for (int i = 0; i < 1_000; i++) {
      b.deposit();
    }

    assertThat(withdrawals(b, 100)).isEqualTo(2);
  }

  @Test
  void a_long_silence_empties_the_whole_window() {
    RetryBudget b = budget(100, 0, 10);
    for (int i = 0; i < 3; i++) {
      b.deposit();
    }
    clock.addAndGet(3_600 * S);

    assertThat(b.available()).isZero();
    b.deposit();
    assertThat(b.available()).isEqualTo(1);
  }
}

package dev.capstan.waypoint.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** P2C over peak EWMA with an injected clock: who gets picked as latencies and loads change. */
class PeakEwmaTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long DECAY = 10_000 * MS;

  private final AtomicLong clock = new AtomicLong(1_000_000 * MS);
  private final PeakEwma balancer = new PeakEwma(DECAY, MS, clock::get);

  /** Observes one answer from {@code key} that took {@code ms}. */
  private void answer(String key, long ms) {
    PeakEwma.Request r = balancer.start(key);
    clock.addAndGet(ms * MS);
    r.done();
  }

  @Test
  void an_endpoint_never_measured_costs_the_initial_latency() {
    assertThat(balancer.cost("new")).isEqualTo(MS);
  }

  @Test
  void of_two_endpoints_the_slower_one_gets_nothing() {
    answer("fast", 1);
    answer("slow", 50);
    AtomicInteger draws = new AtomicInteger();
    int fast = 0;
    for (int i = 0; i < 100; i++) {
      if (balancer.pick(List.of("fast", "slow"), bound -> draws.getAndIncrement() % bound) == 0) {
        fast++;
      }
    }
    assertThat(fast).isEqualTo(100);
  }

  @Test
  void requests_in_flight_make_a_fast_endpoint_cost_more_until_the_slow_one_wins() {
    answer("fast", 1);
    answer("slow", 50);
    List<PeakEwma.Request> inFlight = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      inFlight.add(balancer.start("fast"));
    }
    assertThat(balancer.pick(List.of("fast", "slow"), bound -> 0)).as("11 × 1 ms < 50 ms").isEqualTo(0);
    for (int i = 0; i < 60; i++) {
      inFlight.add(balancer.start("fast"));
    }
    assertThat(balancer.pick(List.of("fast", "slow"), bound -> 0)).as("71 × 1 ms > 50 ms").isEqualTo(1);
    inFlight.forEach(PeakEwma.Request::done);
    inFlight.forEach(PeakEwma.Request::done); // twice changes nothing
    assertThat(balancer.pick(List.of("fast", "slow"), bound -> 0)).isEqualTo(0);
  }

  @Test
  void one_slow_answer_raises_the_average_at_once_and_fast_answers_lower_it_over_time() {
    answer("e", 2);
    answer("e", 100);
    assertThat(balancer.cost("e")).isCloseTo(100.0 * MS, within(1.0 * MS));

    for (int i = 0; i < 50; i++) {
      clock.addAndGet(DECAY / 10); // fast answers, a tenth of the decay apart
      answer("e", 2);
    }
    assertThat(balancer.cost("e")).isLessThan(5.0 * MS);
  }

  @Test
  void an_avoided_endpoint_is_forgiven_as_time_passes() {
    answer("slow", 200);
    assertThat(balancer.cost("slow")).isGreaterThan(150.0 * MS);

    clock.addAndGet(5 * DECAY);

    assertThat(balancer.cost("slow")).isLessThan(3.0 * MS);
  }

  @Test
  void the_two_draws_are_always_distinct_endpoints() {
    answer("a", 5);
    answer("b", 1);
    answer("c", 9);
    // both draws return 0: the second is shifted past the first, so "a" is compared with "b"
    assertThat(balancer.pick(List.of("a", "b", "c"), bound -> 0)).isEqualTo(1);
    assertThat(balancer.pick(List.of("only"), bound -> { throw new AssertionError("no draw for one endpoint"); })).isZero();
  }
}

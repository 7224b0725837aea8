package dev.capstan.waypoint.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.TrafficPolicy.RateLimit;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The local rate limit's token bucket and the concurrency limit, with an injected clock. */
class LimitsTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private final AtomicLong clock = new AtomicLong(77 * MS);

  private static int acquired(TokenBucket b, int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; i++) {
      if (b.tryAcquire()) {
        n++;
      }
    }
    return n;
  }

  @Test
  void a_full_bucket_lets_a_burst_through_then_refuses() {
    TokenBucket b = new TokenBucket(new RateLimit(5, 1, Duration.ofSeconds(1)), clock::get);

    assertThat(acquired(b, 8)).isEqualTo(5);
    assertThat(b.refused()).isEqualTo(3);
  }

  @Test
  void tokens_come_back_per_fill_interval_never_above_the_size() {
    TokenBucket b = new TokenBucket(new RateLimit(10, 3, Duration.ofMillis(100)), clock::get);
    acquired(b, 10);

    clock.addAndGet(99 * MS);
    assertThat(b.tryAcquire()).as("no fill before the interval").isFalse();
    clock.addAndGet(MS);
    assertThat(b.available()).isEqualTo(3);
    clock.addAndGet(250 * MS);
    assertThat(b.available()).as("two more fills; the half interval is kept for later").isEqualTo(9);
    clock.addAndGet(50 * MS);
    assertThat(b.available()).isEqualTo(10);
    clock.addAndGet(10_000 * MS);
    assertThat(b.available()).isEqualTo(10);
  }

  @Test
  void the_concurrency_limit_refuses_one_more_and_admits_again_after_a_release() {
    ConcurrencyLimit l = new ConcurrencyLimit(2);

    assertThat(l.tryAcquire()).isTrue();
    assertThat(l.tryAcquire()).isTrue();
    assertThat(l.tryAcquire()).isFalse();
    assertThat(l.inFlight()).isEqualTo(2);
    assertThat(l.refusals()).isEqualTo(1);

    l.release();
    assertThat(l.tryAcquire()).isTrue();
    l.release();
    l.release();
    l.release();
    assertThat(l.inFlight()).as("an extra release never goes below zero").isZero();
  }
}

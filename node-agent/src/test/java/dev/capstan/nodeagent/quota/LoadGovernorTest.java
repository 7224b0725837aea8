package dev.capstan.nodeagent.quota;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.io.BufferAccount;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The overload governor on a fake clock: reads are charged through real accounts of a
 * {@link TenantBudget}, event-loop lateness is fed as the agent's probe would, and every 100 ms
 * interval is decided by a tick.
 */
class LoadGovernorTest {
  private static final long MS = 1_000_000L;
  private static final long MIB = 1 << 20;

  private final AtomicLong clock = new AtomicLong();
  private final TenantBudget budget = new TenantBudget(TenantBudget.Settings.of(1L << 30), clock::get);
  private final LoadGovernor governor = new LoadGovernor(budget,
      new LoadGovernor.Settings(Duration.ofMillis(2), Duration.ofMillis(100), MIB, 10 * MIB), clock.get());

  /** One 100 ms interval: each tenant reads the given bytes, every loop is {@code lateMs} late, then a tick decides. */
  private void interval(long lateMs, BufferAccount noisy, long noisyBytes, BufferAccount quiet, long quietBytes) {
    for (int i = 0; i < 10; i++) {
      governor.lateness(0, lateMs * MS);
      governor.lateness(1, 0);
    }
    read(noisy, noisyBytes);
    read(quiet, quietBytes);
    clock.addAndGet(100 * MS);
    governor.tick(clock.get());
  }

  /** Charges and releases at once (the bytes were written): only the read rate counts here. */
  private static void read(BufferAccount account, long bytes) {
    if (account == null) {
      return;
    }
    for (long left = bytes; left > 0; left -= 64 * 1024) {
      int n = (int) Math.min(64 * 1024, left);
      account.charge(n);
      account.release(n);
    }
  }

  @Test
  void on_time_loops_limit_nobody() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    for (int i = 0; i < 5; i++) {
      interval(1, noisy, 6 * MIB, quiet, 50 * 1024);
    }
    assertThat(governor.overloaded()).isFalse();
    assertThat(budget.tenant("noisy").rateLimit()).isZero();
    assertThat(budget.tenant("quiet").rateLimit()).isZero();
  }

  @Test
  void late_loops_limit_the_heaviest_reader_and_spare_the_light_one() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    interval(0, noisy, 6 * MIB, quiet, 50 * 1024); // a first interval sets the baseline
    interval(10, noisy, 6 * MIB, quiet, 50 * 1024); // 60 MiB/s vs 0.5 MiB/s, loops 10 ms late

    assertThat(governor.overloaded()).isTrue();
    assertThat(budget.tenant("noisy").rateLimit()).isEqualTo((long) (60 * MIB * LoadGovernor.DECREASE));
    assertThat(budget.tenant("quiet").rateLimit()).isZero();
  }

  @Test
  void only_one_late_loop_is_enough_to_be_overloaded() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    interval(0, noisy, 6 * MIB, quiet, 0);
    // loop 0 is 10 ms late every time, loop 1 on time: the agent counts as overloaded all the same.
    interval(10, noisy, 6 * MIB, quiet, 0);
    assertThat(governor.overloaded()).isTrue();
  }

  @Test
  void one_pause_of_every_loop_is_not_overload() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    interval(0, noisy, 6 * MIB, quiet, 0);
    // A 40 ms GC pause: one sample of each loop is late, the other nine are on time.
    governor.lateness(0, 40 * MS);
    governor.lateness(1, 40 * MS);
    interval(0, noisy, 6 * MIB, quiet, 0);
    assertThat(governor.overloaded()).isFalse();
    assertThat(budget.tenant("noisy").rateLimit()).isZero();
  }

  @Test
  void a_tenant_alone_is_never_limited() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    for (int i = 0; i < 5; i++) {
      interval(50, noisy, 6 * MIB, null, 0);
    }
    assertThat(governor.overloaded()).isTrue();
    assertThat(budget.tenant("noisy").rateLimit()).isZero();
  }

  @Test
  void the_limit_shrinks_while_overloaded_but_never_below_the_floor() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    interval(0, noisy, 6 * MIB, quiet, 0);
    for (int i = 0; i < 30; i++) {
      interval(10, noisy, 6 * MIB, quiet, 0); // reads as much as it can; the limit only stops its connections
    }
    assertThat(budget.tenant("noisy").rateLimit()).isEqualTo(MIB);
  }

  @Test
  void on_time_again_the_limit_grows_back_then_is_lifted_once_it_no_longer_binds() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    interval(0, noisy, 6 * MIB, quiet, 0);
    interval(10, noisy, 6 * MIB, quiet, 0);
    long cut = budget.tenant("noisy").rateLimit();

    interval(0, noisy, 4 * MIB, quiet, 0); // reads at its limit (40 MiB/s): grows by 10 MiB/s per second
    assertThat(budget.tenant("noisy").rateLimit()).isEqualTo(cut + MIB);

    // Its demand falls to 1 MiB/s, under half the limit: lifted after LIFT_AFTER intervals in a row.
    for (int i = 0; i < LoadGovernor.LIFT_AFTER - 1; i++) {
      interval(0, noisy, MIB / 10, quiet, 0);
      assertThat(budget.tenant("noisy").rateLimit()).isPositive();
    }
    interval(0, noisy, MIB / 10, quiet, 0);
    assertThat(budget.tenant("noisy").rateLimit()).isZero();
  }

  @Test
  void a_limited_tenant_stops_reading_when_its_allowance_is_spent_and_resumes_with_time() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    AtomicInteger wakes = new AtomicInteger();
    noisy.onWake(wakes::incrementAndGet);
    budget.tenant("noisy").limitRate(10 * MIB); // 10 KiB per millisecond

    clock.addAndGet(4 * MS);
    governor.tick(clock.get()); // 4 ms of allowance: 40 KiB
    assertThat(noisy.charge(40 * 1024)).isTrue();
    assertThat(noisy.charge(1024)).isFalse(); // spent: the splice stops reading
    assertThat(noisy.mayRead()).isFalse();
    assertThat(quiet.charge(64 * 1024)).isTrue(); // another tenant is not held back
    noisy.release(41 * 1024);
    assertThat(noisy.mayRead()).isFalse(); // writing it out frees memory, not allowance

    clock.addAndGet(1 * MS);
    governor.tick(clock.get()); // 10 KiB more repays the 1 KiB debt
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(noisy.mayRead()).isTrue();
    assertThat(budget.tenant("noisy").rateLimitedNanos()).isEqualTo(1 * MS);
  }

  @Test
  void lifting_a_limit_wakes_a_waiting_tenant() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    AtomicInteger wakes = new AtomicInteger();
    noisy.onWake(wakes::incrementAndGet);
    budget.tenant("noisy").limitRate(MIB);
    assertThat(noisy.charge(1024)).isFalse(); // no allowance saved yet

    budget.tenant("noisy").limitRate(0);
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(noisy.mayRead()).isTrue();
    assertThat(noisy.charge(1024)).isTrue();
  }
}

package dev.capstan.waypoint.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.TrafficPolicy.Abort;
import dev.capstan.core.model.TrafficPolicy.Delay;
import dev.capstan.core.model.TrafficPolicy.Faults;
import dev.capstan.waypoint.resilience.FaultInjection.Fault;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.stream.DoubleStream;
import org.junit.jupiter.api.Test;

/** Delays and aborts by percentage, with injected randomness. */
class FaultInjectionTest {

  private static DoubleSupplier draws(double... values) {
    Iterator<Double> it = DoubleStream.of(values).boxed().iterator();
    return it::next;
  }

  @Test
  void a_share_of_requests_is_delayed() {
    FaultInjection f = FaultInjection.of(new Faults(new Delay(10, Duration.ofSeconds(2)), null));

    assertThat(f.decide(() -> 0.0999)).isEqualTo(new Fault(2_000_000_000L, 0));
    assertThat(f.decide(() -> 0.10)).isEqualTo(Fault.NONE);
  }

  @Test
  void exactly_the_given_share_of_evenly_spread_draws_is_aborted() {
    FaultInjection f = FaultInjection.of(new Faults(null, new Abort(25, 503)));
    int aborted = 0;
    for (int i = 0; i < 100; i++) {
      double u = i / 100.0;
      if (f.decide(() -> u).aborted()) {
        aborted++;
      }
    }

    assertThat(aborted).isEqualTo(25);
  }

  @Test
  void delay_and_abort_are_drawn_independently_and_may_both_apply() {
    FaultInjection f = FaultInjection.of(new Faults(new Delay(50, Duration.ofMillis(10)), new Abort(50, 500)));

    assertThat(List.of(f.decide(draws(0.1, 0.1)), f.decide(draws(0.1, 0.9)), f.decide(draws(0.9, 0.1)), f.decide(draws(0.9, 0.9))))
        .containsExactly(new Fault(10_000_000, 500), new Fault(10_000_000, 0), new Fault(0, 500), Fault.NONE);
  }

  @Test
  void zero_percent_never_and_hundred_percent_always_applies() {
    FaultInjection never = FaultInjection.of(new Faults(null, new Abort(0, 503)));
    FaultInjection always = FaultInjection.of(new Faults(null, new Abort(100, 503)));

    assertThat(never.decide(() -> 0.0).aborted()).isFalse();
    assertThat(always.decide(() -> Math.nextDown(1.0)).aborted()).isTrue();
    assertThat(FaultInjection.NONE.decide(() -> 0.0)).isEqualTo(Fault.NONE);
  }
}

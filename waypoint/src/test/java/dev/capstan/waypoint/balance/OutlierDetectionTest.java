package dev.capstan.waypoint.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Ejection after consecutive errors, its growing length, and its limits, with an injected clock. */
class OutlierDetectionTest {

  private static final long S = TimeUnit.SECONDS.toNanos(1);
  private static final List<String> THREE = List.of("a", "b", "c");

  private final AtomicLong clock = new AtomicLong(1_000 * S);
  private final OutlierDetection detection = new OutlierDetection(OutlierDetection.Settings.defaults(), clock::get);

  private void errors(String key, int n, List<String> peers) {
    for (int i = 0; i < n; i++) {
      detection.observe(key, true, peers);
    }
  }

  @Test
  void five_errors_in_a_row_eject_an_endpoint_for_30_seconds() {
    errors("a", 4, THREE);
    assertThat(detection.available(THREE)).containsExactly("a", "b", "c");

    errors("a", 1, THREE);
    assertThat(detection.available(THREE)).containsExactly("b", "c");

    clock.addAndGet(30 * S);
    assertThat(detection.available(THREE)).containsExactly("a", "b", "c");
  }

  @Test
  void a_success_clears_the_count() {
    errors("a", 4, THREE);
    detection.observe("a", false, THREE);
    errors("a", 4, THREE);
    assertThat(detection.ejected("a")).isFalse();
  }

  @Test
  void each_ejection_lasts_longer_up_to_the_cap() {
    long[] expected = {30, 60, 90};
    for (long seconds : expected) {
      errors("a", 5, THREE);
      clock.addAndGet(seconds * S - 1);
      assertThat(detection.ejected("a")).as("still out just before %d s", seconds).isTrue();
      clock.addAndGet(1);
      assertThat(detection.ejected("a")).as("back at %d s", seconds).isFalse();
    }
    for (int i = 0; i < 20; i++) {
      errors("a", 5, THREE);
      clock.addAndGet(300 * S);
    }
    errors("a", 5, THREE);
    clock.addAndGet(300 * S);
    assertThat(detection.ejected("a")).as("never longer than 300 s").isFalse();
  }

  @Test
  void at_most_half_of_the_endpoints_are_out_and_a_lone_endpoint_never() {
    List<String> four = List.of("a", "b", "c", "d");
    errors("a", 5, four);
    errors("b", 5, four);
    errors("c", 5, four);
    assertThat(detection.available(four)).containsExactly("c", "d");

    errors("solo", 50, List.of("solo"));
    assertThat(detection.ejected("solo")).isFalse();
  }

  @Test
  void with_every_endpoint_out_all_are_used_rather_than_none() {
    List<String> two = List.of("a", "b");
    errors("a", 5, two);
    assertThat(detection.available(two)).containsExactly("b");
    assertThat(detection.available(List.of("a"))).containsExactly("a");
  }
}

package dev.capstan.nodeagent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.io.Transport;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The lateness probe on real event loops: a loop kept busy shows up late, in the metric and to the listener. */
class EventLoopDelayTest {
  private final EventLoopGroup loops = Transport.nio().newGroup(2, "delay-test");
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<long[]> samples = new CopyOnWriteArrayList<>();
  private final EventLoopDelay delay = new EventLoopDelay(loops, registry, (loop, nanos) -> samples.add(new long[] {loop, nanos}));

  @AfterEach
  void stop() {
    delay.close();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void a_loop_held_by_a_long_task_is_reported_late_and_the_other_is_not() throws Exception {
    waitForSamples(20);
    // Hold the first loop for 80 ms, as a long read batch or a blocking call would.
    loops.iterator().next().submit(() -> sleep(80)).get();
    waitForSamples(samples.size() + 20);

    long worstOfHeld = samples.stream().filter(s -> s[0] == 0).mapToLong(s -> s[1]).max().orElse(0);
    assertThat(worstOfHeld).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    Timer held = registry.get("capstan_event_loop_delay").tag("loop", "loop-0").timer();
    assertThat(held.max(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(50);
    assertThat(samples).anySatisfy(s -> assertThat(s[0]).isEqualTo(1)); // the other loop is probed too
  }

  @Test
  void closed_it_stops_probing() throws Exception {
    waitForSamples(10);
    delay.close();
    Thread.sleep(50); // probes already scheduled run once more
    int after = samples.size();
    Thread.sleep(100);
    assertThat(samples.size()).isEqualTo(after);
  }

  private void waitForSamples(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (samples.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(samples.size()).isGreaterThanOrEqualTo(n);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.capstan.nodeagent.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures how late each I/O event loop runs a task scheduled on it every {@link #PERIOD}: the time
 * every connection of that loop waits before the loop gets to it (a long read batch, a blocking
 * call, the process starved of CPU, a GC pause).
 *
 * <p>Metric {@code capstan_event_loop_delay_seconds{loop}} (max and percentiles of the lateness);
 * a warning, at most one per loop every ten seconds, when a loop is later than {@link #WARN_AFTER}.
 */
public final class EventLoopDelay implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoopDelay.class);
  static final Duration PERIOD = Duration.ofMillis(10);
  static final Duration WARN_AFTER = Duration.ofMillis(100);
  private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  private volatile boolean closed;

  /** Receives every lateness sample (on the sampled loop's thread). */
  public interface Listener {
    /** Loop number {@code loop} ran its probe {@code nanos} late. */
    void late(int loop, long nanos);
  }

  /** Probes every loop of {@code loops}; each lateness sample also goes to {@code listener} (any loop's thread). */
  public EventLoopDelay(EventLoopGroup loops, MeterRegistry registry, Listener listener) {
    int i = 0;
    for (EventExecutor loop : loops) {
      String name = "loop-" + i++;
      Timer timer = Timer.builder("capstan_event_loop_delay")
          .description("How late an I/O event loop ran a task due every 10 ms")
          .tag("loop", name)
          .publishPercentiles(0.5, 0.99, 0.999)
          .register(registry);
      loop.schedule(new Probe(loop, i - 1, name, timer, listener), PERIOD.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Reschedules itself (not at a fixed rate: a late run must not be followed by a burst of catch-up runs). */
  private final class Probe implements Runnable {
    private final EventExecutor loop;
    private final int index;
    private final String name;
    private final Timer timer;
    private final Listener listener;
    private long due = System.nanoTime() + PERIOD.toNanos();
    private long lastWarning = System.nanoTime() - WARN_EVERY_NANOS;

    Probe(EventExecutor loop, int index, String name, Timer timer, Listener listener) {
      this.loop = loop;
      this.index = index;
      this.name = name;
      this.timer = timer;
      this.listener = listener;
    }

    @Override
    public void run() {
      long now = System.nanoTime();
      long late = Math.max(0, now - due);
      timer.record(late, TimeUnit.NANOSECONDS);
      listener.late(index, late);
      if (late > WARN_AFTER.toNanos() && now - lastWarning >= WARN_EVERY_NANOS) {
        lastWarning = now;
        LOG.warn("event loop {} ran {} ms late: its connections waited that long (CPU starved, a long batch or a pause)",
            name, TimeUnit.NANOSECONDS.toMillis(late));
      }
      if (!closed && !loop.isShuttingDown()) {
        due = now + PERIOD.toNanos();
        loop.schedule(this, PERIOD.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
  }

  /** Stops the probes (each stops at its next run). */
  @Override
  public void close() {
    closed = true;
  }
}

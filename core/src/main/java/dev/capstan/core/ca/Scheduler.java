package dev.capstan.core.ca;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where the {@link CertificateManager} runs its work: one thread, tasks in order. Production uses
 * a single-thread {@link ScheduledExecutorService}; tests drive a manual one with a fake clock.
 */
public interface Scheduler {

  /** A scheduled task that can be called off. */
  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }

  /** Runs {@code task} soon, after the tasks already due. */
  void execute(Runnable task);

  /** Runs {@code task} after {@code delay}. */
  Cancellable schedule(Duration delay, Runnable task);

  /** A scheduler over a single-thread executor (the caller owns and shuts down the executor). */
  static Scheduler over(ScheduledExecutorService executor) {
    return new Scheduler() {
      @Override
      public void execute(Runnable task) {
        executor.execute(task);
      }

      @Override
      public Cancellable schedule(Duration delay, Runnable task) {
        ScheduledFuture<?> f = executor.schedule(task, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
      }
    };
  }
}

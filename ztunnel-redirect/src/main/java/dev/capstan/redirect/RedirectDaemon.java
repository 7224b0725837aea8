package dev.capstan.redirect;

import dev.capstan.redirect.config.RedirectConfig;
import dev.capstan.redirect.mesh.WorkloadSource;
import dev.capstan.redirect.reconcile.Reconciler;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the {@link Reconciler} on one thread: at start, {@value #DEBOUNCE_MILLIS} ms after a
 * change of the workloads (changes arriving together are reconciled once), and every reconcile
 * interval (the source is re-read whole first, and the kernel checked for drift). Closing stops
 * reconciling and leaves the capture in place: pods stay captured across a restart.
 */
public final class RedirectDaemon implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RedirectDaemon.class);
  static final long DEBOUNCE_MILLIS = 100;

  private final WorkloadSource source;
  private final Reconciler reconciler;
  private final ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, r -> {
    Thread t = new Thread(r, "capstan-redirect");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean pending = new AtomicBoolean();

  /** Starts reconciling {@code source} into the kernel through {@code reconciler}. */
  public RedirectDaemon(RedirectConfig config, WorkloadSource source, Reconciler reconciler, long filePollMillis) {
    this.source = source;
    this.reconciler = reconciler;
    thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    thread.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    source.onChange(this::changed);
    long every = config.reconcileInterval().toMillis();
    thread.execute(reconciler::prepare);
    thread.execute(this::reconcile);
    thread.scheduleWithFixedDelay(() -> {
      source.refresh();
      reconcile();
    }, every, every, TimeUnit.MILLISECONDS);
    if (filePollMillis > 0 && filePollMillis < every) {
      thread.scheduleWithFixedDelay(source::refresh, filePollMillis, filePollMillis, TimeUnit.MILLISECONDS);
    }
  }

  private void changed() {
    if (pending.compareAndSet(false, true)) {
      thread.schedule(() -> {
        pending.set(false);
        reconcile();
      }, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void reconcile() {
    try {
      Reconciler.Outcome outcome = reconciler.reconcile(source.workloads());
      LOG.debug("reconciled: {}", outcome);
    } catch (RuntimeException e) {
      LOG.error("reconcile failed, retrying in the next interval: {}", e.getMessage(), e);
    }
  }

  /** Stops reconciling (a pass under way finishes first); the capture stays in place. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      thread.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    source.close();
  }
}

package dev.capstan.controller.publish;

import dev.capstan.controller.cluster.Leadership;
import dev.capstan.core.model.MeshSnapshot;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins the source, the leadership and the publisher: every replica keeps the latest snapshot
 * of its source (a warm standby), and whichever replica leads writes it. A new leader first
 * re-reads the maps ({@link Publisher#rebase()}) so it writes only what differs.
 *
 * <p>Publications run on one thread; snapshots that arrive while one is being written are
 * coalesced into the newest.
 */
public final class Distribution implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Distribution.class);

  private final Publisher publisher;
  private final Leadership leadership;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "capstan-publish");
    t.setDaemon(true);
    return t;
  });
  private final AtomicReference<MeshSnapshot> pending = new AtomicReference<>();
  private volatile MeshSnapshot latest;
  private volatile Publisher.Result lastResult;

  public Distribution(Publisher publisher, Leadership leadership) {
    this.publisher = publisher;
    this.leadership = leadership;
    leadership.onChange(leader -> {
      if (leader && !thread.isShutdown()) {
        thread.execute(() -> {
          publisher.rebase();
          MeshSnapshot s = latest;
          if (s != null) {
            write(s);
          }
        });
      }
    });
  }

  /** A new snapshot from the source (any thread). */
  public void offer(MeshSnapshot snapshot) {
    latest = snapshot;
    if (pending.getAndSet(snapshot) == null && !thread.isShutdown()) {
      thread.execute(() -> {
        MeshSnapshot s = pending.getAndSet(null);
        if (s != null && leadership.isLeader()) {
          write(s);
        }
      });
    }
  }

  private void write(MeshSnapshot s) {
    try {
      lastResult = publisher.publish(s);
    } catch (RuntimeException e) {
      // The maps stay as they were; the next snapshot or leadership change writes again.
      LOG.error("publishing mesh {} failed, agents keep the previous version: {}", s.version(), e.getMessage());
      publisher.rebase();
    }
  }

  /** The latest snapshot of this replica's source. */
  public MeshSnapshot latest() {
    return latest;
  }

  /** What this replica last published, or {@code null}. */
  public Publisher.Result lastResult() {
    return lastResult;
  }

  public boolean leader() {
    return leadership.isLeader();
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}

package dev.capstan.controller.cluster;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part every {@link Leadership} shares: the current state and its listeners, told of each
 * change serially on one thread ("capstan-leadership").
 */
final class LeaderEvents {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderEvents.class);

  private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "capstan-leadership");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean leader;

  /** Runs {@code task} on the leadership thread. */
  void execute(Runnable task) {
    thread.execute(task);
  }

  /** On the leadership thread: records the state and tells the listeners if it changed. */
  void set(boolean now, String why) {
    if (now != leader) {
      leader = now;
      LOG.info("{} leadership: {}", now ? "gained" : "lost", why);
      listeners.forEach(l -> l.accept(now));
    }
  }

  boolean leader() {
    return leader;
  }

  void onChange(Consumer<Boolean> listener) {
    thread.execute(() -> {
      listeners.add(listener);
      if (leader) {
        listener.accept(true);
      }
    });
  }

  void close() {
    thread.shutdownNow();
    leader = false;
  }
}

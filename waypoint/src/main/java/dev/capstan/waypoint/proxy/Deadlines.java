package dev.capstan.waypoint.proxy;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request timeouts of one length on one event loop. Timeouts of the same length expire in the
 * order they were set, so they wait in a plain queue behind one scheduled task (for the oldest),
 * and cancelling one is clearing a field. A Netty task per request cost an insert into and a
 * removal from the loop's priority queue for every request (~3 % of the hop's CPU), almost all
 * for timeouts that never fire.
 *
 * <p>Confined to its event loop: {@link #on} and everything after it run there. Cancelled
 * timeouts leave the queue when they reach its head (at the next {@link #start}, or when the
 * task runs): the queue holds at most the timeouts started within one timeout's length.
 */
final class Deadlines {

  private static final Logger LOG = LoggerFactory.getLogger(Deadlines.class);

  /** One started timeout. */
  static final class Timeout {
    private final long deadline;
    private Runnable action;

    private Timeout(long deadline, Runnable action) {
      this.deadline = deadline;
      this.action = action;
    }

    /** It will not fire (no effect once it has). */
    void cancel() {
      action = null;
    }
  }

  private static final FastThreadLocal<Map<Long, Deadlines>> BY_LENGTH = new FastThreadLocal<>() {
    @Override
    protected Map<Long, Deadlines> initialValue() {
      return new HashMap<>();
    }
  };

  private final EventLoop loop;
  private final long nanos;
  private final ArrayDeque<Timeout> queue = new ArrayDeque<>();
  /** A task is set for the head (also while it runs: it sets the next one itself). */
  private boolean scheduled;

  private Deadlines(EventLoop loop, long nanos) {
    this.loop = loop;
    this.nanos = nanos;
  }

  /** The timeouts of {@code nanos} on {@code loop}; call on that loop. */
  static Deadlines on(EventLoop loop, long nanos) {
    assert loop.inEventLoop();
    Map<Long, Deadlines> byLength = BY_LENGTH.get();
    Deadlines d = byLength.get(nanos);
    if (d == null || d.loop != loop) { // another loop on this thread (tests' embedded loops): its own queue
      d = new Deadlines(loop, nanos);
      byLength.put(nanos, d);
    }
    return d;
  }

  /** Runs {@code action} on the loop after this length, unless cancelled first. */
  Timeout start(Runnable action) {
    Timeout head;
    while ((head = queue.peekFirst()) != null && head.action == null) {
      queue.pollFirst();
    }
    Timeout t = new Timeout(System.nanoTime() + nanos, action);
    queue.addLast(t);
    if (!scheduled) {
      scheduled = true;
      loop.schedule(this::expire, nanos, TimeUnit.NANOSECONDS);
    }
    return t;
  }

  /** Number of timeouts held, cancelled ones not yet dropped included (for tests). */
  int held() {
    return queue.size();
  }

  private void expire() {
    Timeout head = null;
    try {
      while ((head = queue.peekFirst()) != null && (head.action == null || head.deadline - System.nanoTime() <= 0)) {
        queue.pollFirst();
        Runnable action = head.action;
        head.action = null;
        if (action != null) {
          try {
            action.run();
          } catch (RuntimeException e) { // one failing timeout must not stop the ones behind it
            LOG.warn("timeout action failed", e);
          }
        }
      }
    } finally {
      scheduled = head != null;
      if (scheduled) {
        loop.schedule(this::expire, head.deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
    }
  }
}

package dev.capstan.core.ca;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/**
 * A {@link Scheduler} for tests: tasks run only when the test says so, in time order, on the
 * test's thread, against a fake clock that moves only when the test advances it.
 */
final class ManualScheduler implements Scheduler {

  /** A clock the test sets. */
  static final class FakeClock extends Clock {
    private Instant now;

    FakeClock(Instant start) {
      this.now = start;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    void set(Instant instant) {
      now = instant;
    }
  }

  private record Task(Instant at, long seq, Runnable run, boolean[] cancelled) {}

  private final FakeClock clock;
  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>((a, b) -> a.at().equals(b.at()) ? Long.compare(a.seq(), b.seq()) : a.at().compareTo(b.at()));
  private long seq;

  ManualScheduler(FakeClock clock) {
    this.clock = clock;
  }

  @Override
  public void execute(Runnable task) {
    schedule(Duration.ZERO, task);
  }

  @Override
  public Cancellable schedule(Duration delay, Runnable task) {
    boolean[] cancelled = {false};
    tasks.add(new Task(clock.instant().plus(delay), seq++, task, cancelled));
    return () -> cancelled[0] = true;
  }

  /** Runs every task due now, including those they schedule for now. */
  void runDue() {
    while (!tasks.isEmpty() && !tasks.peek().at().isAfter(clock.instant())) {
      Task t = tasks.poll();
      if (!t.cancelled()[0]) {
        t.run().run();
      }
    }
  }

  /** Moves the clock forward, running each task at its own time. */
  void advance(Duration d) {
    Instant target = clock.instant().plus(d);
    runDue();
    while (!tasks.isEmpty() && !tasks.peek().at().isAfter(target)) {
      clock.set(tasks.peek().at());
      runDue();
    }
    clock.set(target);
    runDue();
  }

  /** Tasks not cancelled and not yet run. */
  long pending() {
    return tasks.stream().filter(t -> !t.cancelled()[0]).count();
  }
}

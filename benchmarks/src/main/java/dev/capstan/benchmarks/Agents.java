package dev.capstan.benchmarks;

import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.nodeagent.state.HazelcastMeshView;
import dev.capstan.nodeagent.state.MeshIndex;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * Node agents' mesh views (real {@link HazelcastMeshView}s, one Hazelcast client each) and the
 * probe that timestamps, in each view's {@code onChange} callback, the first index that holds an
 * expected content. The callback keeps no reference to the index, so the views' retained heap is
 * what the agents would hold.
 */
final class Agents implements AutoCloseable {

  /** When each agent first held the content, and the content at the expected version (0: never). */
  record Arrivals(long start, long[] content, long[] versioned) {
    boolean complete() {
      for (long v : versioned) {
        if (v == 0) {
          return false;
        }
      }
      return true;
    }

    /** Milliseconds from the start to the last agent holding the content. */
    double lastMillis() {
      long last = 0;
      for (long c : content) {
        last = Math.max(last, c - start);
      }
      return last / 1e6;
    }
  }

  private record Target(Predicate<MeshIndex> content, String version, long start, AtomicLongArray contentAt,
      AtomicLongArray versionedAt, CountDownLatch done) {}

  private final List<HazelcastMeshView> views = new ArrayList<>();
  private volatile Target target;
  private volatile long lastIndex = System.nanoTime();

  /** Starts {@code count} views against the controller (they connect in the background). */
  Agents(Controller controller, int count, String prefix, Duration checkEvery) {
    AgentConfig.Controller settings = new AgentConfig.Controller(controller.clusterName(), controller.addresses());
    for (int i = 0; i < count; i++) {
      int agent = i;
      HazelcastMeshView view = new HazelcastMeshView(settings, prefix + "-" + i, checkEvery);
      view.onChange(index -> seen(agent, index));
      views.add(view);
    }
  }

  int size() {
    return views.size();
  }

  HazelcastMeshView view(int i) {
    return views.get(i);
  }

  /**
   * Starts watching for an index that satisfies {@code content} and, if {@code version} is not
   * null, is labelled with that snapshot version. Call right before the offer: the clock starts here.
   */
  void arm(Predicate<MeshIndex> content, String version) {
    int n = views.size();
    target = new Target(content, version, System.nanoTime(), new AtomicLongArray(n), new AtomicLongArray(n),
        new CountDownLatch(n));
  }

  /** Waits until every agent holds the armed content at its version, or the timeout passes. */
  Arrivals await(Duration timeout) throws InterruptedException {
    Target t = target;
    // An index that already held the content before the probe was armed (none in this benchmark)
    // would never call back: look at the current ones too.
    for (int i = 0; i < views.size(); i++) {
      seen(i, views.get(i).current());
    }
    t.done().await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    target = null;
    long[] content = new long[views.size()];
    long[] versioned = new long[views.size()];
    for (int i = 0; i < content.length; i++) {
      content[i] = t.contentAt().get(i);
      versioned[i] = t.versionedAt().get(i);
    }
    return new Arrivals(t.start(), content, versioned);
  }

  /**
   * Waits until no agent has built a new index for {@code quiet}: the events of the last change
   * (or load) are all applied, so nothing transient is held when the heap is read.
   */
  void awaitQuiet(Duration quiet, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - lastIndex < quiet.toNanos() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private void seen(int agent, MeshIndex index) {
    lastIndex = System.nanoTime();
    Target t = target;
    if (t == null || t.versionedAt().get(agent) != 0) {
      return;
    }
    long now = System.nanoTime();
    if (!t.content().test(index)) {
      return;
    }
    t.contentAt().compareAndSet(agent, 0, now);
    if ((t.version() == null || index.version().endsWith("-" + t.version()))
        && t.versionedAt().compareAndSet(agent, 0, now)) {
      t.done().countDown();
    }
  }

  /** Closes the views in parallel: one Hazelcast client takes up to seconds to shut down on a busy machine. */
  @Override
  public void close() {
    ExecutorService closing = Executors.newFixedThreadPool(Math.min(32, Math.max(1, views.size())));
    views.forEach(v -> closing.execute(v::close));
    closing.shutdown();
    try {
      closing.awaitTermination(5, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.capstan.controller.waypoint;

import dev.capstan.controller.cluster.Leadership;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Leadership set by the test; listeners called on the test's thread. */
final class TestLeadership implements Leadership {
  private volatile boolean leader = true;
  private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();

  void set(boolean value) {
    leader = value;
    listeners.forEach(l -> l.accept(value));
  }

  @Override
  public boolean isLeader() {
    return leader;
  }

  @Override
  public void onChange(Consumer<Boolean> listener) {
    listeners.add(listener);
  }

  @Override
  public void close() {}
}

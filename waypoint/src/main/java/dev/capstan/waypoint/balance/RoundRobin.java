package dev.capstan.waypoint.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

/**
 * Each endpoint in turn: a counter taken modulo the number of endpoints offered, so an endpoint
 * that is ejected or leaves simply drops out of the turn. The first turn starts at a random place
 * (so waypoint replicas do not all start on the same endpoint). Lock-free.
 */
public final class RoundRobin implements Picker {

  private final AtomicInteger next = new AtomicInteger(-1);

  @Override
  public int pick(List<String> keys, IntUnaryOperator random) {
    int n = keys.size();
    if (n == 1) {
      return 0;
    }
    int turn = next.updateAndGet(i -> i < 0 ? random.applyAsInt(n) : (i + 1) & Integer.MAX_VALUE);
    return turn % n;
  }
}

package dev.capstan.waypoint.balance;

import java.util.List;
import java.util.function.IntUnaryOperator;

/** Chooses one endpoint of a list (already cleared of ejected ones) for a request. */
public interface Picker {

  /**
   * The index in {@code keys} (at least one) of the endpoint to use; {@code random} gives a number
   * in {@code [0, bound)} for pickers that draw.
   */
  int pick(List<String> keys, IntUnaryOperator random);
}

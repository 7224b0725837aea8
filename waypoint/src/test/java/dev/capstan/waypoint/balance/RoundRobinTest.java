package dev.capstan.waypoint.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Round robin: each endpoint in turn from a random start, an endpoint that drops out simply skipped. */
class RoundRobinTest {

  private static List<String> picks(Picker p, List<String> keys, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(keys.get(p.pick(keys, bound -> 1)));
    }
    return out;
  }

  @Test
  void each_endpoint_in_turn_starting_where_the_random_draw_says() {
    assertThat(picks(new RoundRobin(), List.of("a", "b", "c"), 7)).containsExactly("b", "c", "a", "b", "c", "a", "b");
  }

  @Test
  void an_endpoint_that_leaves_the_list_drops_out_of_the_turn() {
    RoundRobin rr = new RoundRobin();
    picks(rr, List.of("a", "b", "c"), 2);

    assertThat(picks(rr, List.of("a", "c"), 4)).containsOnly("a", "c").containsSubsequence("a", "c", "a");
  }

  @Test
  void a_single_endpoint_is_always_chosen_without_drawing() {
    RoundRobin rr = new RoundRobin();
    assertThat(rr.pick(List.of("only"), bound -> {
      throw new AssertionError("no draw for one endpoint");
    })).isZero();
  }
}

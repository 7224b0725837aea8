package dev.capstan.controller.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.capstan.core.identity.SpiffeId;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BootstrapTokensTest {

  private static final String FILE = """
      # node name: token
      node-a: aaaaaaaaaaaaaaaaaaaaaaaa
      node-b: "bbbbbbbbbbbbbbbbbbbbbbbb"
      """;

  @Test
  void token_authenticates_as_its_node() throws Exception {
    BootstrapTokens tokens = BootstrapTokens.parse(FILE, "tokens.yaml");

    assertThat(tokens.size()).isEqualTo(2);
    assertThat(tokens.authenticate("aaaaaaaaaaaaaaaaaaaaaaaa").node()).isEqualTo("node-a");
    assertThat(tokens.authenticate("bbbbbbbbbbbbbbbbbbbbbbbb").node()).isEqualTo("node-b");
  }

  @Test
  void unknown_or_near_miss_token_is_refused() {
    BootstrapTokens tokens = BootstrapTokens.parse(FILE, "tokens.yaml");

    for (String token : new String[] {"aaaaaaaaaaaaaaaaaaaaaaab", "aaaaaaaaaaaaaaaaaaaaaaa", "", "node-a"}) {
      Denial d = catchThrowableOfType(Denial.class, () -> tokens.authenticate(token));
      assertThat(d).isNotNull();
      assertThat(d.reason()).isEqualTo(Denial.Reason.INVALID_TOKEN);
    }
  }

  @Test
  void empty_file_accepts_no_token() {
    BootstrapTokens tokens = BootstrapTokens.parse("", "tokens.yaml");

    assertThat(tokens.size()).isZero();
    assertThat(catchThrowableOfType(Denial.class, () -> tokens.authenticate("aaaaaaaaaaaaaaaaaaaaaaaa"))).isNotNull();
  }

  @Test
  void short_token_is_refused_naming_the_node() {
    assertThatThrownBy(() -> BootstrapTokens.parse("node-a: short\n", "tokens.yaml"))
        .hasMessage("tokens.yaml: bootstrap token of node 'node-a' is shorter than 16 characters");
  }

  @Test
  void shared_token_is_refused() {
    assertThatThrownBy(() -> new BootstrapTokens(Map.of("node-a", "same-token-0123456789", "node-b", "same-token-0123456789")))
        .hasMessageContaining("is also another entry's token");
  }

  @Test
  void duplicate_node_is_refused() {
    assertThatThrownBy(() -> BootstrapTokens.parse("node-a: aaaaaaaaaaaaaaaaaaaaaaaa\nnode-a: bbbbbbbbbbbbbbbbbbbbbbbb\n", "tokens.yaml"))
        .hasMessageStartingWith("tokens.yaml: not valid YAML")
        .hasMessageContaining("node-a");
  }

  @Test
  void non_string_token_is_refused() {
    assertThatThrownBy(() -> BootstrapTokens.parse("node-a: [1, 2]\n", "tokens.yaml"))
        .hasMessage("tokens.yaml: token of node 'node-a' must be a string");
  }

  @Test
  void file_that_is_not_a_map_is_refused() {
    assertThatThrownBy(() -> BootstrapTokens.parse("- node-a\n", "tokens.yaml"))
        .hasMessage("tokens.yaml: expected a map of node name (or waypoint:<namespace>/<name>) to token");
  }

  /** The Waypoint reviews/waypoint runs as service account {@code reviews-waypoint}. */
  private static final WaypointAccounts WAYPOINTS = new WaypointAccounts() {
    @Override
    public Optional<String> serviceAccount(String namespace, String name) {
      return namespace.equals("reviews") && name.equals("waypoint") ? Optional.of("reviews-waypoint") : Optional.empty();
    }

    @Override
    public boolean anyRunsAs(String namespace, String serviceAccount) {
      return namespace.equals("reviews") && serviceAccount.equals("reviews-waypoint");
    }
  };

  private static final String WITH_WAYPOINTS = FILE + """
      waypoint:reviews/waypoint: wwwwwwwwwwwwwwwwwwwwwwww
      waypoint:reviews/ghost: gggggggggggggggggggggggg
      """;

  @Test
  void waypoint_token_may_get_only_its_waypoints_service_account() throws Exception {
    BootstrapTokens tokens = BootstrapTokens.parse(WITH_WAYPOINTS, "tokens.yaml", WAYPOINTS, "cluster.local");

    Caller caller = tokens.authenticate("wwwwwwwwwwwwwwwwwwwwwwww");

    assertThat(tokens.size()).isEqualTo(4);
    assertThat(caller.ownIdentity()).contains(SpiffeId.of("cluster.local", "reviews", "reviews-waypoint"));
    assertThat(caller.principal()).isEqualTo("bootstrap token of waypoint:reviews/waypoint");
    assertThat(tokens.authenticate("aaaaaaaaaaaaaaaaaaaaaaaa").ownIdentity()).as("a node's token is unchanged").isEmpty();
  }

  @Test
  void waypoint_token_of_an_undeclared_waypoint_is_refused() {
    BootstrapTokens tokens = BootstrapTokens.parse(WITH_WAYPOINTS, "tokens.yaml", WAYPOINTS, "cluster.local");

    Denial d = catchThrowableOfType(Denial.class, () -> tokens.authenticate("gggggggggggggggggggggggg"));

    assertThat(d.reason()).isEqualTo(Denial.Reason.NOT_WAYPOINT);
    assertThat(d.getMessage()).contains("no Waypoint reviews/ghost is declared");
  }

  @Test
  void malformed_waypoint_entry_is_refused_naming_it() {
    assertThatThrownBy(() -> BootstrapTokens.parse("waypoint:Reviews: wwwwwwwwwwwwwwwwwwwwwwww\n", "tokens.yaml"))
        .hasMessage("tokens.yaml: bootstrap token entry 'waypoint:Reviews' must be waypoint:<namespace>/<name> (DNS labels)");
  }
}

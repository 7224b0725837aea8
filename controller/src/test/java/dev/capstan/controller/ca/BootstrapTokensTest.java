package dev.capstan.controller.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
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
        .hasMessageContaining("is also another node's token");
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
        .hasMessage("tokens.yaml: expected a map of node name to token");
  }
}

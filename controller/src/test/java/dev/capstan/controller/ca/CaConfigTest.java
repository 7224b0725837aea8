package dev.capstan.controller.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CaConfigTest {

  @Test
  void defaults_match_the_design() {
    CaConfig c = CaConfig.defaults();

    assertThat(c.port()).isEqualTo(15012);
    assertThat(c.leafValidity()).isEqualTo(Duration.ofHours(24));
    assertThat(c.serverIdentity().uri()).isEqualTo("spiffe://cluster.local/ns/capstan-system/sa/capstan-controller");
    assertThat(c.nodeAgentUser()).isEqualTo("system:serviceaccount:capstan-system:capstan-node-agent");
    assertThat(c.serverNames()).containsExactly("capstan-controller.capstan-system.svc", "localhost");
    assertThat(c.tokenAudience()).isEqualTo("capstan-ca");
  }

  @Test
  void default_leaf_longer_than_the_cap_is_refused() {
    assertThatThrownBy(() -> CaConfig.defaults().withLeafValidity(Duration.ofHours(48), Duration.ofHours(24)))
        .hasMessage("ca leafValidity PT48H is longer than maxLeafValidity PT24H");
  }

  @Test
  void bad_values_are_named() {
    assertThatThrownBy(() -> CaConfig.defaults().withListen("0.0.0.0", 70_000)).hasMessage("ca port must be 0..65535, not 70000");
    assertThatThrownBy(() -> CaConfig.of("Bad Domain", "capstan-system")).hasMessageContaining("trust domain");
    assertThatThrownBy(() -> CaConfig.defaults().withLeafValidity(Duration.ZERO, Duration.ofHours(1)))
        .hasMessage("ca leafValidity must be positive, not PT0S");
  }
}

package dev.capstan.netlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A network's names: a prefix its stale namespaces are found by, interface names that fit in 15 characters. */
class SettingsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({"C2E2E", "x", "averylongprefix", "1abc", "cs-demo"})
  void a_prefix_that_could_not_name_namespaces_safely_is_refused(String prefix) {
    assertThatThrownBy(() -> TwoNodeNetwork.Settings.of(prefix, 'c', "cp"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prefix must be 2 to 8 lowercase letters");
  }

  @Test
  void an_interface_letter_must_be_a_lowercase_letter() {
    assertThatThrownBy(() -> TwoNodeNetwork.Settings.of("cse2e", '1', "cp")).hasMessageContaining("interfaceLetter");
  }

  @Test
  void the_run_id_is_the_prefix_this_pid_and_a_letter_and_tools_run_from_the_settings_class_path() {
    TwoNodeNetwork net = TwoNodeNetwork.create(TwoNodeNetwork.Settings.of("cstest", 't', "/tools"));

    assertThat(net.runId()).matches("cstest" + ProcessHandle.current().pid() + "[a-z]");
    List<String> argv = net.toolCommand(SettingsTest.class, List.of("--x"));
    assertThat(argv).containsSubsequence(TwoNodeNetwork.TOOL_JVM_OPTIONS);
    assertThat(argv).containsSubsequence("-cp", "/tools", SettingsTest.class.getName(), "--x");
  }
}

package dev.capstan.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which workloads the mesh captures. */
class WorkloadTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
      "a pod of an enrolled namespace is captured | app | web | true",
      "a waypoint's pod is not captured | capstan.dev/waypoint | waypoint | false",
      "a waypoint's pod whatever the label's value | capstan.dev/waypoint | '' | false",
      "a pod labelled out of the mesh is not captured | capstan.dev/mesh | disabled | false",
      "another value of the mesh label is captured | capstan.dev/mesh | enabled | true"})
  void only_enrolled_pods_are_captured(String behaviour, String label, String value, boolean captured) {
    Workload w = new Workload("u", "p", "shop", "default", List.of("10.1.0.2"), "node-a", Map.of(label, value), null);

    assertThat(w.captured()).isEqualTo(captured);
  }
}

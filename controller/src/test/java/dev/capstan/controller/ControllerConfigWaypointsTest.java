package dev.capstan.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The controller's {@code waypoints} block: on with the kubernetes source, its defaults, its errors. */
class ControllerConfigWaypointsTest {

  private static ControllerConfig parse(String yaml) {
    return ControllerConfig.parse("name: c0\n" + yaml, "controller.yaml", Path.of("/etc/capstan"));
  }

  @Test
  void in_a_cluster_waypoints_are_deployed_with_defaults_that_reach_the_controller() {
    ControllerConfig config = parse("kubernetes: {}\nnamespace: mesh-system\n");

    assertThat(config.waypoints()).isEqualTo(new ControllerConfig.Waypoints(true, "capstan/waypoint:latest", "IfNotPresent",
        List.of("capstan-controller.mesh-system.svc:5701"), Duration.ofMinutes(5)));
  }

  @Test
  void clusterless_nothing_is_deployed_and_asking_for_it_is_an_error() {
    String clusterless = "manifests: m\nca: {dir: ca, bootstrapTokens: tokens.yaml}\n";

    assertThat(parse(clusterless).waypoints().deploy()).isFalse();
    assertThatThrownBy(() -> parse(clusterless + "waypoints: {deploy: true}\n")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("waypoints.deploy").hasMessageContaining("only with the kubernetes source");
  }

  @Test
  void a_bad_pull_policy_or_an_empty_member_list_is_an_error_naming_the_field() {
    assertThatThrownBy(() -> parse("kubernetes: {}\nwaypoints: {imagePullPolicy: Sometimes}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("waypoints.imagePullPolicy must be IfNotPresent");
    assertThatThrownBy(() -> parse("kubernetes: {}\nwaypoints: {members: []}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("waypoints.members must list at least one");
    assertThat(parse("kubernetes: {}\nwaypoints: {image: registry.example/waypoint:1.2, members: [\"10.0.0.5:5701\"]}\n")
        .waypoints().image()).isEqualTo("registry.example/waypoint:1.2");
  }
}

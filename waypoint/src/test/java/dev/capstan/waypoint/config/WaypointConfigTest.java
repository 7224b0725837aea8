package dev.capstan.waypoint.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.config.ConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Where the waypoint's mesh comes from: files, or the controller. */
class WaypointConfigTest {

  private static final Path BASE = Path.of("/etc/capstan");

  private static WaypointConfig parse(String source) {
    return WaypointConfig.parse("namespace: shop\nlisten: 10.0.0.9:15008\ncerts: certs\n" + source, "waypoint.yaml", BASE);
  }

  @Test
  void the_controller_gives_the_mesh_and_the_routes() {
    WaypointConfig config = parse("controller: {clusterName: mesh, members: [capstan-controller.capstan-system.svc:5701]}\n");

    assertThat(config.controller()).contains(
        new WaypointConfig.Controller("mesh", List.of("capstan-controller.capstan-system.svc:5701")));
    assertThat(config.mesh()).isEmpty();
    assertThat(config.routes()).isEmpty();
  }

  @Test
  void files_give_them_otherwise() {
    WaypointConfig config = parse("mesh: mesh.yaml\nroutes: routes\n");

    assertThat(config.controller()).isEmpty();
    assertThat(config.mesh()).contains(BASE.resolve("mesh.yaml"));
    assertThat(config.routes()).isEqualTo(Optional.of(BASE.resolve("routes")));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "neither mesh nor controller | serviceAccount: waypoint | exactly one of mesh (a file) or controller",
      "both mesh and controller | 'mesh: m.yaml\ncontroller: {members: [a:5701]}' | exactly one of mesh (a file) or controller",
      "routes beside the controller | 'routes: r\ncontroller: {members: [a:5701]}' | the routes come from the controller",
      "no member | 'controller: {members: []}' | controller.members must list at least one",
      "a member without a port | 'controller: {members: [capstan-controller]}' | 'capstan-controller' must be host:port",
      "an unknown controller field | 'controller: {members: [a:5701], tls: true}' | controller.tls is not a known field"})
  void a_bad_source_is_an_error_naming_the_field(String behaviour, String source, String message) {
    assertThatThrownBy(() -> parse(source.replace("\\n", "\n"))).as(behaviour)
        .isInstanceOf(ConfigException.class).hasMessageContaining("waypoint.yaml").hasMessageContaining(message);
  }
}

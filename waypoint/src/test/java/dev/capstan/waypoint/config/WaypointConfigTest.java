package dev.capstan.waypoint.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.ca.CaClient;
import dev.capstan.core.config.ConfigException;
import dev.capstan.core.identity.SpiffeId;
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

  private static WaypointConfig parseCerts(String certs) {
    return WaypointConfig.parse("namespace: shop\nlisten: 10.0.0.9:15008\nmesh: mesh.yaml\n" + certs, "waypoint.yaml", BASE);
  }

  @Test
  void the_certificate_comes_from_files() {
    assertThat(parseCerts("certs: certs\n").certs()).isEqualTo(new WaypointConfig.CertFiles(BASE.resolve("certs")));
  }

  @Test
  void the_certificate_comes_from_the_controllers_ca() {
    WaypointConfig config = parseCerts("trustDomain: mesh.example\n"
        + "ca: {address: \"capstan-controller.capstan-system.svc:15012\", root: ca/root-cert.pem, token: /var/run/token}\n");

    assertThat(config.certs()).isEqualTo(new WaypointConfig.CertAuthority("capstan-controller.capstan-system.svc", 15012,
        BASE.resolve("ca/root-cert.pem"), Path.of("/var/run/token"),
        new CaClient.ServerCheck.ById(SpiffeId.parse("spiffe://mesh.example/ns/capstan-system/sa/capstan-controller"))));
  }

  @Test
  void the_ca_server_may_be_checked_by_dns_name() {
    WaypointConfig config = parseCerts("ca: {address: \"[::1]:15012\", root: r.pem, token: t, serverName: ca.example}\n");

    assertThat(config.certs()).isInstanceOfSatisfying(WaypointConfig.CertAuthority.class, ca -> {
      assertThat(ca.host()).isEqualTo("::1");
      assertThat(ca.server()).isEqualTo(new CaClient.ServerCheck.ByName("ca.example"));
    });
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "neither certs nor ca | serviceAccount: waypoint | exactly one of certs (a directory) or ca (the controller's CA)",
      "both certs and ca | 'certs: c\nca: {address: a:1, root: r, token: t}' | exactly one of certs (a directory) or ca",
      "no address | 'ca: {root: r, token: t}' | ca.address is required",
      "an address without a port | 'ca: {address: ca.example, root: r, token: t}' | ca.address must be <host>:<port>",
      "a port out of range | 'ca: {address: \"a:70000\", root: r, token: t}' | ca.address must be <host>:<port>",
      "no root | 'ca: {address: a:1, token: t}' | ca.root is required",
      "no token | 'ca: {address: a:1, root: r}' | ca.token is required",
      "identity and serverName | 'ca: {address: a:1, root: r, token: t, identity: x, serverName: y}' | exclude each other",
      "a bad identity | 'ca: {address: a:1, root: r, token: t, identity: \"https://x\"}' | ca.identity",
      "an unknown ca field | 'ca: {address: a:1, root: r, token: t, key: k}' | ca.key is not a known field"})
  void a_bad_certificate_source_is_an_error_naming_the_field(String behaviour, String source, String message) {
    assertThatThrownBy(() -> parseCerts(source.replace("\\n", "\n"))).as(behaviour)
        .isInstanceOf(ConfigException.class).hasMessageContaining("waypoint.yaml").hasMessageContaining(message);
  }
}

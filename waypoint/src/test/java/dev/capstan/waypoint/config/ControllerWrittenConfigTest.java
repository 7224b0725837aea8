package dev.capstan.waypoint.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.waypoint.WaypointManifests;
import dev.capstan.core.ca.CaClient;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The config the controller writes for a Waypoint's pods is one the waypoint reads, and names the CA. */
class ControllerWrittenConfigTest {

  @Test
  void the_controllers_waypoint_config_parses_and_asks_the_ca_with_the_projected_token() {
    WaypointResource resource = new WaypointResource();
    resource.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("waypoint").withUid("uid-1").build());
    Waypoint waypoint = new Waypoint("shop", "waypoint", "waypoint", 1, Waypoint.Compute.NONE, Waypoint.TrafficType.SERVICE);
    WaypointManifests.Settings settings = new WaypointManifests.Settings("capstan/waypoint:1", "IfNotPresent",
        "cluster.local", "capstan", List.of("capstan-controller.mesh.svc:5701"), "capstan-controller.mesh.svc:15012",
        "spiffe://cluster.local/ns/mesh/sa/capstan-controller", "root");

    ConfigMap configMap = WaypointManifests.of(resource, waypoint, settings).stream()
        .filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast).findFirst().orElseThrow();
    WaypointConfig config = WaypointConfig.parse(configMap.getData().get("waypoint.yaml"), "waypoint.yaml",
        Path.of("/etc/capstan/config"));

    assertThat(config.namespace()).isEqualTo("shop");
    assertThat(config.serviceAccount()).isEqualTo("waypoint");
    assertThat(config.certs()).isEqualTo(new WaypointConfig.CertAuthority("capstan-controller.mesh.svc", 15012,
        Path.of("/etc/capstan/config/root-cert.pem"), Path.of("/var/run/secrets/capstan/token"),
        new CaClient.ServerCheck.ById(SpiffeId.parse("spiffe://cluster.local/ns/mesh/sa/capstan-controller"))));
    assertThat(configMap.getData()).containsEntry("root-cert.pem", "root");
    assertThat(config.controller()).contains(new WaypointConfig.Controller("capstan", List.of("capstan-controller.mesh.svc:5701")));
  }
}

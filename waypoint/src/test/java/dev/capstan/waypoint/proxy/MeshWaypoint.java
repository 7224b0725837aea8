package dev.capstan.waypoint.proxy;

import dev.capstan.nodeagent.testing.TwoNodeMesh;
import dev.capstan.waypoint.Waypoint;
import dev.capstan.waypoint.config.WaypointConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** A waypoint of namespace {@code shop} as it runs beside a {@link TwoNodeMesh}: its config file, the mesh's certificates and mesh file, a routes directory. */
final class MeshWaypoint {

  private MeshWaypoint() {}

  /** Writes {@code waypoint.yaml} (with {@code extra} lines) in the mesh's directory and starts the waypoint on {@code podIp}. */
  static Waypoint start(TwoNodeMesh mesh, String podIp, String extra) throws Exception {
    Path config = mesh.dir().resolve("waypoint.yaml");
    Files.writeString(config, """
        namespace: shop
        listen: %s:%d
        hbonePort: %d
        certs: certs
        mesh: mesh.yaml
        routes: routes
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        """.formatted(podIp, mesh.hbonePort(), mesh.hbonePort()) + extra);
    return Waypoint.start(WaypointConfig.load(config));
  }
}

package dev.capstan.nodeagent;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_A;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import dev.capstan.nodeagent.testing.TwoNodeMesh;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pool limits and certificate rotation. */
class PoolLimitsTest {

  @Test
  void streams_over_the_per_connection_limit_open_another_hbone_connection() throws Exception {
    try (TwoNodeMesh mesh = new TwoNodeMesh("", 2)) {
      List<Socket> open = new ArrayList<>();
      try {
        for (int i = 0; i < 6; i++) {
          Socket s = connectFrom(POD_A, mesh.upstreamA());
          open.add(s);
          s.getOutputStream().write('x');
          s.getOutputStream().flush();
          assertThat(s.getInputStream().read()).isEqualTo('x');
        }
        // Six concurrent tunnels, two streams per connection: at least three connections.
        assertThat(mesh.a.pool().openConnections()).isGreaterThanOrEqualTo(3);
      } finally {
        for (Socket s : open) {
          s.close();
        }
      }
    }
  }

  @Test
  void a_rotated_certificate_is_used_for_new_connections() throws Exception {
    try (TwoNodeMesh mesh = new TwoNodeMesh()) {
      Path dir = mesh.dir().resolve("certs");
      Issuer root = new Issuer(Pem.privateKey(Files.readString(dir.resolve("root-key.pem"))),
          Pem.certificates(Files.readString(dir.resolve("root-cert.pem"))).get(0));
      CertifiedKey rotated = root.issue(SpiffeId.of("cluster.local", "shop", "frontend"), Instant.now(), Duration.ofHours(2));
      Path frontend = dir.resolve("shop").resolve("frontend");
      Files.writeString(frontend.resolve("key.pem"), Pem.encodeKey(rotated.key()));
      Files.writeString(frontend.resolve("cert-chain.pem"), Pem.encode(rotated.chain()));
      mesh.a.reloadNow();

      assertThat(mesh.get(mesh.a, 0, "/config_dump").body()).contains(rotated.notAfter().toString());
      try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
        assertThat(roundTrip(s, "after rotation")).isEqualTo("after rotation");
      }
    }
  }
}

package dev.capstan.nodeagent;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_A;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.roundTrip;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.sample;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.nodeagent.testing.TwoNodeMesh;
import java.net.Socket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Per-tenant connection caps through two real agents: tenant {@code shop} may have two connections
 * open through an agent; a third is refused with a log line and a metric, and once one closes
 * a new one is admitted.
 */
class TenantCapsTest {

  private TwoNodeMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TwoNodeMesh("", 100, "quota: {tenantMaxConnections: 2}");
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void a_tenant_over_its_connection_cap_is_refused_until_one_of_its_connections_closes() throws Exception {
    try (Socket first = connectFrom(POD_A, mesh.upstreamA()); Socket second = connectFrom(POD_A, mesh.upstreamA())) {
      // Both stay open: an echo without a half-close.
      assertThat(echo(first, "one")).isEqualTo("one");
      assertThat(echo(second, "two")).isEqualTo("two");

      try (Socket third = connectFrom(POD_A, mesh.upstreamA())) {
        String answer;
        try {
          answer = roundTrip(third, "three");
        } catch (java.net.SocketException reset) {
          answer = "";
        }
        assertThat(answer).as("the third connection of tenant shop").isEmpty();
      }
      assertThat(sample(mesh.metrics(mesh.a), "capstan_tenant_connections_refused_total",
          "reason=\"connection_limit\"")).isEqualTo(1.0);
      assertThat(sample(mesh.metrics(mesh.a), "capstan_tcp_connections_failed_total",
          "reason=\"tenant_connection_limit\"")).isEqualTo(1.0);
    }
    // Both closed: the agent sees it shortly; a new connection is admitted.
    String again = "";
    for (int i = 0; i < 50 && again.isEmpty(); i++) {
      try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
        again = roundTrip(s, "again");
      } catch (java.net.SocketException retry) {
        Thread.sleep(100);
      }
    }
    assertThat(again).isEqualTo("again");
  }

  private static String echo(Socket s, String text) throws java.io.IOException {
    s.setSoTimeout(10_000);
    s.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    byte[] back = new java.io.DataInputStream(s.getInputStream()).readNBytes(text.length());
    return new String(back, java.nio.charset.StandardCharsets.US_ASCII);
  }
}

package dev.capstan.nodeagent;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_A;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.nodeagent.testing.TwoNodeMesh;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SIGTERM's drain: stop accepting, let open connections finish, close the rest at the deadline. */
class DrainTest {

  private TwoNodeMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TwoNodeMesh();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  private static String echo(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes());
    s.getOutputStream().flush();
    byte[] buf = new byte[text.length()];
    int read = 0;
    while (read < buf.length) {
      int n = s.getInputStream().read(buf, read, buf.length - read);
      if (n < 0) {
        break;
      }
      read += n;
    }
    return new String(buf, 0, read);
  }

  @Test
  void draining_agent_refuses_new_connections_and_lets_open_ones_finish() throws Exception {
    InetSocketAddress upstream = mesh.upstreamA();
    try (Socket open = connectFrom(POD_A, upstream)) {
      assertThat(echo(open, "before")).isEqualTo("before");

      CompletableFuture<Void> drained = mesh.a.drain(Duration.ofSeconds(20));

      assertThatThrownBy(() -> connectFrom(POD_A, upstream).close()).isInstanceOf(IOException.class);
      assertThat(mesh.get(mesh.a, 2, "/healthz/ready").statusCode()).isEqualTo(503);
      assertThat(echo(open, "during drain")).isEqualTo("during drain");
      assertThat(drained).isNotDone();

      open.shutdownOutput();
      assertThat(open.getInputStream().read()).isEqualTo(-1);
      drained.get(10, TimeUnit.SECONDS);
    }
    assertThat(mesh.a.activeConnections()).isZero();
  }

  @Test
  void connections_still_open_at_the_deadline_are_closed() throws Exception {
    try (Socket open = connectFrom(POD_A, mesh.upstreamA())) {
      assertThat(echo(open, "x")).isEqualTo("x");
      mesh.a.drain(Duration.ofMillis(300)).get(10, TimeUnit.SECONDS);
      assertThat(open.getInputStream().read()).isEqualTo(-1);
    }
  }
}

package dev.capstan.cli.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.capstan.cli.CliException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real sockets on 127.0.0.1: what each kind of failure says. */
class HttpTest {

  private HttpServer server;
  private final Http http = new Http(Duration.ofSeconds(5));

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/config_dump", ex -> answer(ex, 200, "{\"node\": \"node-a\"}"));
    server.createContext("/metrics", ex -> answer(ex, 200, "capstan_up 1.0\n"));
    server.createContext("/missing", ex -> answer(ex, 404, "not found\n"));
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static void answer(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws java.io.IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private URI at(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  @Test
  void a_json_answer_is_parsed() {
    assertThat(http.json(at("/config_dump"), "the admin endpoint", "hint").path("node").asText()).isEqualTo("node-a");
  }

  @Test
  void a_closed_port_is_named_with_the_reason_and_the_hint() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    URI uri = URI.create("http://127.0.0.1:" + closed + "/config_dump");

    assertThatThrownBy(() -> http.json(uri, "the admin endpoint", "Is the agent running?"))
        .isInstanceOf(CliException.class)
        .hasMessage("cannot reach the admin endpoint at " + uri + ": connection refused. Is the agent running?")
        .extracting(e -> ((CliException) e).exitCode()).isEqualTo(2);
  }

  @Test
  void an_answer_other_than_200_names_the_status() {
    assertThatThrownBy(() -> http.text(at("/missing"), "the metrics endpoint", "hint"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("the metrics endpoint at " + at("/missing") + " answered HTTP 404 (not found)");
  }

  @Test
  void a_metrics_port_given_where_json_is_wanted_is_told_apart() {
    assertThatThrownBy(() -> http.json(at("/metrics"), "the admin endpoint", "hint"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("did not answer JSON (capstan_up 1.0): is that an admin port");
  }
}

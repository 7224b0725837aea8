package dev.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.capstan.cli.demo.DemoMesh;
import dev.capstan.cli.demo.Frontend;
import dev.capstan.cli.stat.StatCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The commands against a real mesh in this JVM (the demo's: controller with Hazelcast and the CA,
 * agents node-a and node-b, the waypoint of {@code reviews}), started once for all of them. Real
 * sockets, real admin and metrics endpoints; the traffic for {@code stat} is sent between its two
 * scrapes, so its numbers do not depend on timing.
 */
class CommandsOnARunningMeshTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static DemoMesh mesh;

  @BeforeAll
  static void start() throws Exception {
    mesh = DemoMesh.start(Files.createTempDirectory("capstan-cli-test-"), Optional.empty(), false);
  }

  @AfterAll
  static void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  private static String admin(List<Integer> ports) {
    return "127.0.0.1:" + ports.get(0);
  }

  private static String metrics(List<Integer> ports) {
    return "127.0.0.1:" + ports.get(1);
  }

  /** What one run printed and returned. */
  private record Run(int code, String out, String err) {}

  private static Run run(CommandLine.IFactory factory, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = CapstanMain.commandLine(factory);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private static Run run(String... args) {
    return run(CommandLine.defaultFactory(), args);
  }

  @Test
  void status_shows_every_agent_and_the_waypoint_connected_ready_and_running_the_published_version() throws Exception {
    String published = mesh.controller().distribution().lastResult().version().label();
    String[] args = {"status", "--controller", admin(mesh.controller().adminPorts()),
        "--agents", admin(mesh.agentA().adminPorts()) + "," + admin(mesh.agentB().adminPorts()),
        "--waypoints", admin(mesh.waypoint().adminPorts())};

    Run json = run(concat(args, "-o", "json"));

    assertThat(json.code()).as(json.err()).isZero();
    JsonNode report = JSON.readTree(json.out());
    assertThat(report.path("latestVersion").asText()).isEqualTo(published);
    JsonNode controller = report.path("controllers").get(0);
    assertThat(controller.path("name").asText()).isEqualTo("controller-0");
    assertThat(controller.path("leader").asBoolean()).isTrue();
    assertThat(controller.path("ready").asBoolean()).isTrue();
    assertThat(controller.path("members")).hasSize(1);
    assertThat(StreamSupport.stream(controller.path("clients").spliterator(), false).map(c -> c.path("kind").asText()))
        .containsExactlyInAnyOrder("agent", "agent", "waypoint");
    assertThat(report.path("proxies")).hasSize(3);
    for (JsonNode proxy : report.path("proxies")) {
      assertThat(proxy.path("version").asText()).as(proxy.toString()).isEqualTo(published);
      assertThat(proxy.path("sync").asText()).as(proxy.toString()).isEqualTo("SYNCED");
      assertThat(proxy.path("connected").asBoolean()).as(proxy.toString()).isTrue();
      assertThat(proxy.path("ready").asBoolean()).as(proxy.toString()).isTrue();
    }
    assertThat(StreamSupport.stream(report.path("proxies").spliterator(), false).map(p -> p.path("kind").asText() + " " + p.path("name").asText()))
        .containsExactly("agent node-a", "agent node-b", "waypoint reviews");

    Run table = run(args);
    assertThat(table.code()).isZero();
    assertThat(table.out()).contains("CONTROLLER", "PUBLISHED", "HAZELCAST MEMBERS",
        "NAME     KIND      ADMIN", "CONNECTED  READY  CONFIG VERSION", "SYNC",
        "latest config version: " + published + " (every proxy runs it)");
  }

  @Test
  void stat_rows_count_the_connections_requests_and_bytes_sent_between_the_two_scrapes() throws Exception {
    Frontend frontend = new Frontend(DemoMesh.FRONTEND_IP, mesh.explicitProxy(), DemoMesh.REVIEWS_TARGET);
    int tunnels = 10;
    int requestsEach = 5;
    AtomicLong clock = new AtomicLong();
    StatCommand.Pause traffic = window -> {
      for (int i = 0; i < tunnels; i++) {
        assertThat(frontend.warmUp(requestsEach, Duration.ofSeconds(20))).as("tunnel %d's requests succeed", i).isTrue();
      }
      // Bytes are counted when the agent closes its side: wait (bounded) until it has.
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (mesh.agentA().activeConnections() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      clock.addAndGet(window.toNanos()); // the window "passed": rates divide by exactly its length
    };
    CommandLine.IFactory factory = new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        return type == StatCommand.class ? type.cast(new StatCommand(traffic, clock::get)) : CommandLine.defaultFactory().create(type);
      }
    };
    String agents = metrics(mesh.agentA().adminPorts()) + "," + metrics(mesh.agentB().adminPorts());

    Run json = run(factory, "stat", "--agent", agents, "--waypoint", metrics(mesh.waypoint().adminPorts()),
        "--window", "5s", "--reporter", "source", "-o", "json");

    assertThat(json.code()).as(json.err()).isZero();
    JsonNode report = JSON.readTree(json.out());
    assertThat(report.path("windowSeconds").asDouble()).isEqualTo(5.0);
    JsonNode frontendRow = row(report, "shop", "frontend-1");
    assertThat(frontendRow.path("kind").asText()).isEqualTo("workload");
    // at least the 10 tunnels (a failed attempt would be retried: more, never fewer)
    assertThat(frontendRow.path("connectionsPerSecond").asDouble()).as(json.out()).isGreaterThanOrEqualTo(tunnels / 5.0);
    assertThat(frontendRow.path("openConnections").asLong()).isZero();
    assertThat(frontendRow.path("bytesOutPerSecond").asDouble()).as("requests sent").isPositive();
    assertThat(frontendRow.path("bytesInPerSecond").asDouble()).as("responses received").isPositive();
    JsonNode service = row(report, "reviews", "reviews");
    assertThat(service.path("kind").asText()).isEqualTo("service");
    assertThat(service.path("requestsPerSecond").asDouble()).as(json.out()).isGreaterThanOrEqualTo(tunnels * requestsEach / 5.0);
    assertThat(service.path("successPercent").asDouble()).isEqualTo(100.0);
    assertThat(service.path("p50Millis").asDouble()).isPositive();
    assertThat(service.path("p99Millis").asDouble()).isGreaterThanOrEqualTo(service.path("p50Millis").asDouble());
    assertThat(service.path("bytesOutPerSecond").asDouble()).as("response bodies").isPositive();

    Run table = run(factory, "stat", "--agent", agents, "--waypoint", metrics(mesh.waypoint().adminPorts()), "--window", "1s",
        "-n", "reviews");
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out()).contains("NAMESPACE  NAME", "KIND", "SUCCESS  RPS", "LATENCY_P50  LATENCY_P99  CONN/S  TCP_CONN  BYTES_IN/S  BYTES_OUT/S",
        "reviews    reviews       service   100.00%", "reviews    reviews-v1-1  workload");
    assertThat(table.out()).doesNotContain("frontend-1");
  }

  private static JsonNode row(JsonNode report, String namespace, String name) {
    List<JsonNode> rows = new ArrayList<>();
    report.path("rows").forEach(r -> {
      if (r.path("namespace").asText().equals(namespace) && r.path("name").asText().equals(name)) {
        rows.add(r);
      }
    });
    assertThat(rows).as("the row of %s/%s in %s", namespace, name, report).hasSize(1);
    return rows.get(0);
  }

  @Test
  void config_dump_prints_what_the_agent_runs() throws Exception {
    String a = admin(mesh.agentA().adminPorts());

    Run json = run("config-dump", "--agent", a, "-o", "json");

    assertThat(json.code()).as(json.err()).isZero();
    JsonNode dump = JSON.readTree(json.out());
    assertThat(dump.path("node").asText()).isEqualTo("node-a");
    assertThat(dump.path("ready").asBoolean()).isTrue();
    assertThat(dump.path("version").asText()).isEqualTo(mesh.controller().distribution().lastResult().version().label());
    assertThat(dump.path("certificates").get(0).path("identity").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/frontend");

    Run yaml = run("config-dump", "--agent", a, "--section", "version,listeners", "-o", "yaml");
    assertThat(yaml.code()).isZero();
    JsonNode sections = new YAMLMapper().readTree(yaml.out());
    assertThat(sections.path("version").asText()).isEqualTo(dump.path("version").asText());
    assertThat(sections.path("listeners").path("explicit-proxy").asText()).endsWith(":" + mesh.explicitProxy().getPort());

    Run table = run("config-dump", "--agent", a);
    assertThat(table.out()).contains("SECTION", "node               node-a", "certificates       [1 item]");
  }

  @Test
  void check_finds_the_running_agent_healthy() throws Exception {
    Run json = run("check", "--admin", admin(mesh.agentA().adminPorts()), "-o", "json");

    JsonNode checks = JSON.readTree(json.out()).path("checks");
    List<String> agent = new ArrayList<>();
    checks.forEach(c -> {
      if (c.path("group").asText().equals("node agent")) {
        agent.add(c.path("status").asText() + " " + c.path("name").asText());
      }
    });
    assertThat(agent).as(json.out()).containsExactly("OK admin endpoint", "OK mesh loaded", "OK ready", "OK certificates");
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}

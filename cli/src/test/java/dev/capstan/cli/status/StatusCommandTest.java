package dev.capstan.cli.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capstan.cli.CapstanMain;
import dev.capstan.cli.FakeEndpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code capstan status} against admin ports answering fixed dumps: what SYNCED and STALE mean, and the errors. */
class StatusCommandTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final FakeEndpoint controller;
  private final FakeEndpoint agentA;
  private final FakeEndpoint agentB;

  StatusCommandTest() throws Exception {
    controller = new FakeEndpoint().answer("/config_dump", """
        {"name": "controller-0", "leader": true, "ready": true, "members": ["[10.0.0.1]:5701", "[10.0.0.2]:5701"],
         "published": {"version": "8-feed", "written": 1, "removed": 0},
         "clients": [{"name": "capstan-agent-node-a", "address": "/10.0.1.1:40000"},
                     {"name": "capstan-agent-node-c", "address": "/10.0.1.3:40000"},
                     {"name": "capstan-redirect-node-a", "address": "/10.0.1.1:40001"}]}
        """);
    agentA = new FakeEndpoint().answer("/config_dump", "{\"node\": \"node-a\", \"version\": \"8-feed\", \"meshReady\": true, \"ready\": true}");
    agentB = new FakeEndpoint().answer("/config_dump", "{\"node\": \"node-b\", \"version\": \"7-beef\", \"meshReady\": true, \"ready\": true}");
  }

  @AfterEach
  void stop() {
    controller.close();
    agentA.close();
    agentB.close();
  }

  private int run(String... args) {
    CommandLine cli = CapstanMain.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 1];
    all[0] = "status";
    System.arraycopy(args, 0, all, 1, args.length);
    return cli.execute(all);
  }

  @Test
  void each_agent_is_synced_or_stale_against_what_the_leader_published() {
    int rc = run("--controller", controller.address(), "--agents", agentA.address() + "," + agentB.address());

    assertThat(rc).as(err.toString()).isZero();
    assertThat(out.toString()).contains(
        "controller-0  " + controller.address() + "  yes     yes    8-feed     [10.0.0.1]:5701,[10.0.0.2]:5701  3",
        "node-a  agent  " + agentA.address() + "  yes        yes    8-feed          SYNCED",
        // not connected to the controller asked, and a version behind
        "node-b  agent  " + agentB.address() + "  no         yes    7-beef          STALE",
        // connected, not asked: listed without a version
        "node-c  agent  -                yes        -      -               -",
        "latest config version: 8-feed (1 proxy(ies) do not run it)",
        "1 connected proxy(ies) not asked");
    assertThat(out.toString()).doesNotContain("redirect");
  }

  @Test
  void json_has_the_latest_version_and_a_row_per_proxy() throws Exception {
    assertThat(run("--controller", controller.address(), "--agents", agentA.address(), "-o", "json")).isZero();

    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json.path("latestVersion").asText()).isEqualTo("8-feed");
    assertThat(json.path("controllers").get(0).path("clients")).hasSize(3);
    assertThat(json.path("proxies")).hasSize(2);
    assertThat(json.path("proxies").get(0).path("sync").asText()).isEqualTo("SYNCED");
    assertThat(json.path("proxies").get(1).path("name").asText()).isEqualTo("node-c");
    assertThat(json.path("proxies").get(1).path("version").isNull()).isTrue();
  }

  @Test
  void an_unreachable_agent_is_reported_on_stderr_with_exit_2_and_the_rest_still_printed() throws Exception {
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }

    int rc = run("--controller", controller.address(), "--agents", agentA.address() + ",127.0.0.1:" + closed);

    assertThat(rc).isEqualTo(2);
    assertThat(out.toString()).contains("node-a  agent");
    assertThat(err.toString()).isEqualTo("capstan status: cannot reach the node agent's admin endpoint at http://127.0.0.1:" + closed
        + "/config_dump: connection refused. Is the component running, and is this its admin port (15000 by default, loopback only)?"
        + " Run capstan on its host, or forward the port: kubectl -n <namespace> port-forward pod/<pod> 15000\n");
  }

  @Test
  void an_agent_given_as_the_controller_is_told_apart() {
    assertThat(run("--controller", agentA.address())).isEqualTo(2);
    assertThat(err.toString()).contains(agentA.address() + " is not a controller: its config dump is a node agent's (give it to --agents)");
  }

  @Test
  void without_any_endpoint_it_says_what_to_give() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("give at least one admin endpoint: --controller <host:port> and/or --agents");
  }

  @Test
  void client_names_say_what_they_serve() {
    assertThat(StatusCommand.client("capstan-agent-node-a", "x")).isEqualTo(new StatusReport.Client("capstan-agent-node-a", "agent", "node-a", "x"));
    assertThat(StatusCommand.client("capstan-waypoint-reviews-0b0e8a4c-5d4e-4f6a-9a8b-1c2d3e4f5a6b", "x").of()).isEqualTo("reviews");
    assertThat(StatusCommand.client("capstan-redirect-node-a", "x").kind()).isEqualTo("redirect");
    assertThat(StatusCommand.client("hz.client_1", "x").kind()).isEqualTo("other");
  }

  @Test
  void sync_needs_both_versions_and_a_loaded_mesh() {
    assertThat(StatusCommand.sync("1-a", true, "1-a")).isEqualTo("SYNCED");
    assertThat(StatusCommand.sync("1-a", true, "2-b")).isEqualTo("STALE");
    assertThat(StatusCommand.sync("", false, "2-b")).isEqualTo("NO MESH");
    assertThat(StatusCommand.sync("1-a", true, null)).isNull();
  }
}

package dev.capstan.cli.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.capstan.cli.CapstanMain;
import dev.capstan.cli.remote.Http;
import dev.capstan.redirect.probe.CaptureProbe;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** How {@code capstan check} renders what the probes found, and its exit code, with probes a test sets. */
class CheckCommandTest {

  private final FakeProbes probes = new FakeProbes();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = CapstanMain.commandLine(new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        return type == CheckCommand.class ? type.cast(new CheckCommand(() -> probes)) : CommandLine.defaultFactory().create(type);
      }
    });
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 1];
    all[0] = "check";
    System.arraycopy(args, 0, all, 1, args.length);
    return cli.execute(all);
  }

  @Test
  void a_node_that_can_run_capstan_passes_every_pre_check_with_a_tick_each() {
    int rc = run("--pre");

    assertThat(rc).as(out.toString()).isZero();
    assertThat(out.toString()).contains(
        "kernel\n------\n✔ nftables installed: nftables v1.0.6\n",
        "✔ nftables tproxy (TPROXY): the kernel accepts nftables tproxy rules\n",
        "✔ IP_TRANSPARENT settable:",
        "✔ JDK 17 or newer: Java 17.0.15",
        "ports\n-----\n✔ 15000 (admin): free\n",
        "✔ 15021 (readiness): free\n",
        "Status check results are ✔\n");
    assertThat(out.toString()).doesNotContain("✖", "‼", "node agent");
  }

  @Test
  void a_missing_tproxy_an_old_jdk_and_a_taken_port_fail_with_hints_and_exit_1() {
    probes.capture.set(2, new CaptureProbe.Check("tproxy", CaptureProbe.Status.FAIL, "kernel lacks nft_tproxy: Error: Could not process rule"));
    probes.java = Runtime.Version.parse("11.0.2");
    probes.taken.add(15001);

    int rc = run("--pre");

    assertThat(rc).isEqualTo(1);
    assertThat(out.toString()).contains(
        "✖ nftables tproxy (TPROXY): kernel lacks nft_tproxy: Error: Could not process rule\n    hint: load the modules (modprobe nft_tproxy nft_socket)",
        "✖ JDK 17 or newer: Java 11.0.2",
        " is too old\n    hint: install a JDK 17 or newer",
        "✖ 15001 (outbound capture): in use by another process\n    hint: `ss -ltnp 'sport = :15001'` names it",
        "✔ 15006 (inbound plaintext capture): free",
        "Status check results are ✖: 3 required checks failed\n");
  }

  @Test
  void without_cap_net_admin_the_kernel_checks_that_need_it_are_warnings_not_failures() {
    probes.netAdmin = false;
    probes.capture = List.of(
        new CaptureProbe.Check("nftables", CaptureProbe.Status.OK, "nftables v1.0.6"),
        new CaptureProbe.Check("nftables usable", CaptureProbe.Status.FAIL,
            "permission denied: run as root or with CAP_NET_ADMIN in the node's network namespace"));
    probes.ipTransparent = Optional.of("setsockopt() failed: Operation not permitted");
    probes.soMark = Optional.of("setsockopt() failed: Operation not permitted");

    int rc = run("--pre");

    assertThat(rc).as(out.toString()).isZero();
    assertThat(out.toString()).contains(
        "‼ privileges: this process lacks CAP_NET_ADMIN",
        "‼ nftables usable: not tested: permission denied",
        "‼ IP_TRANSPARENT settable: not tested: setting IP_TRANSPARENT needs CAP_NET_ADMIN, which this process lacks",
        "    hint: run `sudo capstan check` to test it",
        "Status check results are ✔ (4 warnings)");
    assertThat(out.toString()).doesNotContain("✖");
  }

  @Test
  void ip_transparent_refused_to_root_is_a_failure() {
    probes.ipTransparent = Optional.of("setsockopt() failed: Operation not permitted");

    assertThat(run("--pre")).isEqualTo(1);
    assertThat(out.toString()).contains("✖ IP_TRANSPARENT settable: refused with CAP_NET_ADMIN held",
        "hint: a security module (seccomp, AppArmor, SELinux) may block it");
  }

  @Test
  void without_pre_an_unreachable_agent_fails_and_free_ports_are_only_warnings() {
    int rc = run("--admin", "127.0.0.1:15000");

    assertThat(rc).isEqualTo(1);
    assertThat(out.toString()).contains(
        "‼ 15001 (outbound capture): nothing listens here\n    hint: expected when the agent runs without capture",
        "node agent\n----------\n✖ admin endpoint: cannot reach the node agent's admin endpoint at http://127.0.0.1:15000/config_dump",
        "hint: start the node agent, point --admin at it, or run `capstan check --pre` before installing");
  }

  @Test
  void without_pre_the_ports_the_agent_holds_are_matched_to_its_listeners_and_endpoints() {
    probes.taken.addAll(List.of(15000, 15001, 15006, 15008, 15020, 15021));
    probes.answers.put("http://127.0.0.1:15000/config_dump", new Http.Answer(200, """
        {"node": "node-a", "version": "7-abc", "meshReady": true, "ready": true,
         "listeners": {"outbound": "/127.0.0.1:15001", "inbound": "/0.0.0.0:15006"},
         "certificates": [{"identity": "spiffe://cluster.local/ns/shop/sa/frontend"}], "localWorkloads": [{"name": "frontend-1"}]}
        """));
    probes.answers.put("http://127.0.0.1:15020/metrics", new Http.Answer(200, "capstan_buffer_held_bytes 0.0\n"));
    probes.answers.put("http://127.0.0.1:15021/healthz/ready", new Http.Answer(200, "ready\n"));

    int rc = run();

    assertThat(rc).as(out.toString()).isEqualTo(1);
    assertThat(out.toString()).contains(
        "✔ 15000 (admin): the node agent's admin endpoint",
        "✔ 15001 (outbound capture): the node agent's outbound listener",
        "✔ 15006 (inbound plaintext capture): the node agent's inbound listener",
        "✖ 15008 (HBONE): in use, and not by this node's agent",
        "✔ 15020 (metrics): the node agent's metrics endpoint",
        "✔ 15021 (readiness): the node agent's readiness endpoint (ready)",
        "✔ admin endpoint: the node agent of node-a answers at 127.0.0.1:15000",
        "✔ mesh loaded: config version 7-abc",
        "✔ ready: ready to carry traffic",
        "✔ certificates: 1 certificate(s) for 1 local workload(s)",
        "Status check results are ✖: 1 required check failed");
  }

  @Test
  void an_agent_without_its_mesh_fails_with_a_hint_to_look_at_the_controller() {
    probes.answers.put("http://127.0.0.1:15000/config_dump", new Http.Answer(200,
        "{\"node\": \"node-a\", \"version\": \"\", \"meshReady\": false, \"ready\": false}"));

    assertThat(run()).isEqualTo(1);
    assertThat(out.toString()).contains("✖ mesh loaded: no mesh yet", "hint: the agent waits for the controller",
        "✖ ready: not ready");
  }

  @Test
  void a_controller_admin_given_as_the_agent_is_told_apart() {
    probes.answers.put("http://127.0.0.1:15000/config_dump", new Http.Answer(200, "{\"name\": \"c-0\", \"leader\": true}"));

    assertThat(run()).isEqualTo(1);
    assertThat(out.toString()).contains("✖ admin endpoint: 127.0.0.1:15000 answers with a controller's config dump, not a node agent's");
  }

  @Test
  void json_and_yaml_carry_every_check_and_the_verdict() throws Exception {
    probes.taken.add(15008);

    assertThat(run("--pre", "-o", "json")).isEqualTo(1);
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json.path("passed").asBoolean()).isFalse();
    assertThat(json.path("failed").asInt()).isEqualTo(1);
    assertThat(json.path("checks")).anySatisfy(c -> {
      assertThat(c.path("name").asText()).isEqualTo("15008 (HBONE)");
      assertThat(c.path("status").asText()).isEqualTo("FAIL");
      assertThat(c.path("group").asText()).isEqualTo("ports");
      assertThat(c.path("hint").asText()).contains("ss -ltnp");
    });

    out.getBuffer().setLength(0);
    assertThat(run("--pre", "-o", "yaml")).isEqualTo(1);
    JsonNode yaml = new YAMLMapper().readTree(out.toString());
    assertThat(yaml).isEqualTo(json);
  }

  @Test
  void help_lists_the_checks_and_the_exit_codes() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("--pre", "IP_TRANSPARENT", "1   a required check failed", "-o, --output=<format>");
  }
}

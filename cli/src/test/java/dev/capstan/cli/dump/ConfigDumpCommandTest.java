package dev.capstan.cli.dump;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.capstan.cli.CapstanMain;
import dev.capstan.cli.FakeEndpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code capstan config-dump} against an admin port answering an agent's dump. */
class ConfigDumpCommandTest {

  private static final String DUMP = """
      {
        "node" : "node-a",
        "version" : "3-0a1b2c",
        "meshReady" : true,
        "listeners" : {"outbound" : "/127.0.0.1:15001", "hbone" : "/0.0.0.0:15008"},
        "certificates" : [ {"identity" : "spiffe://cluster.local/ns/shop/sa/frontend", "notAfter" : "2026-11-23T19:52:32Z"} ],
        "localWorkloads" : [ {"name" : "frontend-1", "namespace" : "shop", "ips" : [ "10.0.0.5" ], "labels" : {"app" : "frontend"}} ],
        "mesh" : {"version" : "3-0a1b2c", "workloads" : [ {"name" : "frontend-1"}, {"name" : "reviews-v1"} ]}
      }
      """;

  private FakeEndpoint admin;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws Exception {
    admin = new FakeEndpoint().answer("/config_dump", DUMP);
  }

  @AfterEach
  void stop() {
    admin.close();
  }

  private int run(String... args) {
    CommandLine cli = CapstanMain.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 1];
    all[0] = "config-dump";
    System.arraycopy(args, 0, all, 1, args.length);
    return cli.execute(all);
  }

  @Test
  void the_table_lists_each_section_with_a_short_value() {
    assertThat(run("--agent", admin.address())).isZero();
    assertThat(out.toString()).contains(
        "SECTION         VALUE\n",
        "node            node-a\n",
        "version         3-0a1b2c\n",
        "listeners       outbound=/127.0.0.1:15001,hbone=/0.0.0.0:15008\n",
        "certificates    [1 item]\n",
        "mesh            {version,workloads}\n",
        "(one section in full: --section <name>");
  }

  @Test
  void sections_print_in_full_a_list_of_objects_as_a_table() {
    assertThat(run("--agent", admin.address(), "--section", "version,certificates", "--section", "localWorkloads")).isZero();
    assertThat(out.toString()).isEqualTo("""
        version: 3-0a1b2c

        certificates:
        IDENTITY                                    NOT_AFTER
        spiffe://cluster.local/ns/shop/sa/frontend  2026-11-23T19:52:32Z

        localWorkloads:
        NAME        NAMESPACE  IPS       LABELS
        frontend-1  shop       10.0.0.5  app=frontend
        """);
  }

  @Test
  void json_and_yaml_print_the_dump_as_the_component_wrote_it() throws Exception {
    assertThat(run("--admin", admin.address(), "-o", "json")).isZero();
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json).isEqualTo(new ObjectMapper().readTree(DUMP));

    out.getBuffer().setLength(0);
    assertThat(run("--admin", "http://" + admin.address(), "-o", "yaml", "--section", "listeners")).isZero();
    JsonNode yaml = new YAMLMapper().readTree(out.toString());
    assertThat(yaml.path("listeners").path("hbone").asText()).isEqualTo("/0.0.0.0:15008");
    assertThat(yaml.size()).isEqualTo(1);
  }

  @Test
  void an_unknown_section_is_refused_with_the_sections_there_are() {
    assertThat(run("--agent", admin.address(), "--section", "clusters")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("capstan config-dump: the config dump of " + admin.address()
        + " has no section 'clusters'; it has: node, version, meshReady, listeners, certificates, localWorkloads, mesh\n");
  }

  @Test
  void an_unreachable_admin_port_is_one_line_naming_it_and_exit_2() throws Exception {
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    assertThat(run("--agent", "127.0.0.1:" + closed)).isEqualTo(2);
    assertThat(err.toString()).startsWith("capstan config-dump: cannot reach the admin endpoint at http://127.0.0.1:" + closed
        + "/config_dump: connection refused. Is the component running");
    assertThat(err.toString().lines()).hasSize(1);
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void help_says_what_it_prints() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("/config_dump", "--section=<name>", "--agent, --admin=<host:port>");
  }
}

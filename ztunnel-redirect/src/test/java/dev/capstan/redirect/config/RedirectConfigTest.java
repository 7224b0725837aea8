package dev.capstan.redirect.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class RedirectConfigTest {

  private static RedirectConfig parse(String yaml) {
    return RedirectConfig.parse(yaml, "redirect.yaml", Path.of("/etc/capstan"));
  }

  @Test
  void minimal_file_config_takes_the_documented_defaults() {
    RedirectConfig c = parse("node: node1\nmesh: mesh.yaml\n");

    assertThat(c.node()).isEqualTo("node1");
    assertThat(c.mesh()).isEqualTo(new RedirectConfig.MeshFile(Path.of("/etc/capstan/mesh.yaml")));
    assertThat(c.capture()).isEqualTo(RedirectConfig.Capture.defaults());
    assertThat(c.capture().address().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(c.capture().tproxyMark()).isEqualTo(0x100000L);
    assertThat(c.capture().agentMark()).isEqualTo(0x200000L);
    assertThat(c.table()).isEqualTo("capstan");
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void controller_source_and_every_capture_field_are_read() {
    RedirectConfig c = parse("""
        node: n2
        controller: {clusterName: prod, members: ["10.0.0.1:5701", "10.0.0.2:5701"]}
        capture:
          address: 127.0.0.2
          outboundPort: 25001
          inboundPort: 25006
          hbonePort: 25008
          tproxyMark: "0x10"
          agentMark: 32
          routeTable: 99
        table: mesh_capture
        reconcileInterval: 3s
        """);

    assertThat(c.mesh()).isEqualTo(new RedirectConfig.Controller("prod", List.of("10.0.0.1:5701", "10.0.0.2:5701")));
    RedirectConfig.Capture k = c.capture();
    assertThat(k.address().getHostAddress()).isEqualTo("127.0.0.2");
    assertThat(List.of(k.outboundPort(), k.inboundPort(), k.hbonePort(), k.routeTable())).containsExactly(25001, 25006, 25008, 99);
    assertThat(k.tproxyMark()).isEqualTo(0x10L);
    assertThat(k.agentMark()).isEqualTo(32L);
    assertThat(c.table()).isEqualTo("mesh_capture");
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void unquoted_hex_marks_read_as_yaml_integers_are_accepted() {
    RedirectConfig c = parse("node: n\nmesh: m.yaml\ncapture: {tproxyMark: 0x100, agentMark: 0x200}\n");

    assertThat(c.capture().tproxyMark()).isEqualTo(0x100L);
    assertThat(c.capture().agentMark()).isEqualTo(0x200L);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      node missing                | mesh: m.yaml                                                        | node is required
      both sources                | node: n\\nmesh: m.yaml\\ncontroller: {members: [a:1]}                | exclude each other
      no source                   | node: n                                                             | mesh is required
      no controller members       | node: n\\ncontroller: {members: []}                                  | members must list at least one
      marks share bits            | node: n\\nmesh: m\\ncapture: {tproxyMark: '0x300', agentMark: '0x100'} | must not share bits
      equal marks                 | node: n\\nmesh: m\\ncapture: {tproxyMark: '0x100', agentMark: '0x100'} | must not share bits
      zero mark                   | node: n\\nmesh: m\\ncapture: {tproxyMark: '0'}                        | tproxyMark must be a non-zero 32-bit mark
      mark not a number           | node: n\\nmesh: m\\ncapture: {agentMark: 'lots'}                      | agentMark must be a non-zero 32-bit mark (hex like 0x100000 or decimal), got 'lots'
      mark wider than 32 bits     | node: n\\nmesh: m\\ncapture: {agentMark: '0x100000000'}               | agentMark must be a non-zero 32-bit mark
      port zero                   | node: n\\nmesh: m\\ncapture: {outboundPort: 0}                        | outboundPort must be between 1 and 65535, got 0
      port too high               | node: n\\nmesh: m\\ncapture: {hbonePort: 70000}                       | hbonePort must be between 1 and 65535, got 70000
      IPv6 capture address        | node: n\\nmesh: m\\ncapture: {address: '::1'}                         | address must be a literal IPv4 address, got '::1'
      reserved route table        | node: n\\nmesh: m\\ncapture: {routeTable: 254}                        | must not be a reserved table
      bad table name              | node: n\\nmesh: m\\ntable: 'my table'                                 | table must be an nftables identifier
      unknown field               | node: n\\nmesh: m\\ncaptrue: {}                                       | captrue is not a known field
      interval too short          | node: n\\nmesh: m\\nreconcileInterval: 10ms                           | reconcileInterval must be at least 100ms, got '10ms'
      """)
  void bad_config_is_rejected_naming_the_field_and_value(String name, String yaml, String message) {
    assertThatThrownBy(() -> parse(yaml.replace("\\n", "\n")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }
}

package dev.capstan.nodeagent.config;

import dev.capstan.core.mesh.MeshFile;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.nodeagent.config.AgentConfig.AccessLogFormat;
import dev.capstan.nodeagent.config.AgentConfig.PoolConfig;
import dev.capstan.nodeagent.config.AgentConfig.Upstream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The agent's YAML configuration: values, defaults, and errors that name the field and the bad value. */
class AgentConfigTest {

  private static final String SOURCE = "agent.yaml";
  private static final Path BASE = Path.of("/etc/capstan");
  private static final String MINIMAL = """
      node: node-1
      mesh: mesh.yaml
      certs: certs
      """;

  private static AgentConfig parse(String yaml) {
    return AgentConfig.parse(yaml, SOURCE, BASE);
  }

  @Test
  void full_config_parses_to_the_written_values() {
    AgentConfig config = parse("""
        node: node-7
        trustDomain: prod.example
        mesh: state/mesh.yaml
        certs: /var/run/capstan/certs
        hbonePort: 15009
        admin: "[::1]:15100"
        metrics: 10.0.0.7:15120
        ready: 10.0.0.7:15121
        explicitProxy: 127.0.0.1:3128
        upstreams:
          - listen: 127.0.0.1:9000
            service: shop/backend
            port: 8080
          - listen: "[::1]:9001"
            service: billing/ledger.v2
            port: 443
        pool:
          maxStreamsPerConnection: 50
          idleTimeout: 90s
        hbone:
          streamWindow: 131072
          connectionWindow: 1048576
          maxFrameSize: 32768
          maxConcurrentStreams: 200
          handshakeTimeout: 2500ms
        tlsEngine: jdk
        workerThreads: 3
        connectTimeout: 2s
        drainTimeout: 1m
        reloadInterval: 500ms
        accessLog: json
        """);

    assertThat(config).isEqualTo(new AgentConfig(
        "node-7",
        "prod.example",
        new AgentConfig.MeshFile(Path.of("/etc/capstan/state/mesh.yaml")),
        new AgentConfig.CertFiles(Path.of("/var/run/capstan/certs")),
        15009,
        new InetSocketAddress("::1", 15100),
        new InetSocketAddress("10.0.0.7", 15120),
        new InetSocketAddress("10.0.0.7", 15121),
        Optional.of(new InetSocketAddress("127.0.0.1", 3128)),
        List.of(
            new Upstream(new InetSocketAddress("127.0.0.1", 9000), "shop/backend", 8080),
            new Upstream(new InetSocketAddress("::1", 9001), "billing/ledger.v2", 443)),
        new PoolConfig(50, Duration.ofSeconds(90)),
        new HboneSettings(131_072, 1_048_576, 32_768, 200, Duration.ofMillis(2500)),
        TlsEngine.JDK,
        3,
        Duration.ofSeconds(2),
        Duration.ofMinutes(1),
        Duration.ofMillis(500),
        AccessLogFormat.JSON,
        Optional.empty(),
        AgentConfig.QuotaConfig.defaults()));
  }

  @Test
  void minimal_config_gets_the_defaults() {
    AgentConfig config = parse(MINIMAL);

    assertThat(config).isEqualTo(new AgentConfig(
        "node-1",
        "cluster.local",
        new AgentConfig.MeshFile(Path.of("/etc/capstan/mesh.yaml")),
        new AgentConfig.CertFiles(Path.of("/etc/capstan/certs")),
        15008,
        new InetSocketAddress("127.0.0.1", 15000),
        new InetSocketAddress("0.0.0.0", 15020),
        new InetSocketAddress("0.0.0.0", 15021),
        Optional.of(new InetSocketAddress("127.0.0.1", 15080)),
        List.of(),
        new PoolConfig(100, Duration.ofMinutes(1)),
        HboneSettings.defaults(),
        TlsEngine.AUTO,
        Runtime.getRuntime().availableProcessors(),
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        Duration.ofSeconds(1),
        AccessLogFormat.TEXT,
        Optional.empty(),
        AgentConfig.QuotaConfig.defaults()));
  }

  @Test
  void capture_block_enables_transparent_listeners_with_defaults_and_a_hex_mark() {
    AgentConfig defaults = parse(MINIMAL + "capture: {}\n");
    assertThat(defaults.capture()).contains(new AgentConfig.Capture(
        new InetSocketAddress("127.0.0.1", 15001), new InetSocketAddress("127.0.0.1", 15006),
        new InetSocketAddress("127.0.0.1", 15008), 0x200000));

    AgentConfig custom = parse(MINIMAL + "capture: {outbound: '127.0.0.1:25001', mark: 0x400}\n");
    assertThat(custom.capture().orElseThrow().outbound()).isEqualTo(new InetSocketAddress("127.0.0.1", 25001));
    assertThat(custom.capture().orElseThrow().mark()).isEqualTo(0x400);
  }

  @Test
  void quota_sizes_take_units_and_default_from_the_budget() {
    AgentConfig config = parse(MINIMAL + "quota: {budget: 64MiB, connectionWindow: 128KiB, tenantConnectionsPerSecond: 50}\n");
    assertThat(config.quota()).isEqualTo(new AgentConfig.QuotaConfig(64L << 20, 16L << 20, 128 * 1024, 10_000, 50, 50));
    assertThat(parse(MINIMAL + "quota: {budget: 1048576, giveBack: 0, tenantMaxConnections: 7}\n").quota())
        .isEqualTo(new AgentConfig.QuotaConfig(1 << 20, 0, 256 * 1024, 7, 10_000, 10_000));
  }

  @Test
  void the_overload_governor_target_defaults_to_2ms_and_0ms_turns_it_off() {
    assertThat(parse(MINIMAL).quota().loopDelayTarget()).isEqualTo(java.time.Duration.ofMillis(2));
    assertThat(parse(MINIMAL + "quota: {loopDelayTarget: 5ms}\n").quota().loopDelayTarget())
        .isEqualTo(java.time.Duration.ofMillis(5));
    assertThat(parse(MINIMAL + "quota: {loopDelayTarget: 0ms}\n").quota().loopDelayTarget()).isZero();
    assertThatThrownBy(() -> parse(MINIMAL + "quota: {loopDelayTarget: 2m}\n"))
        .hasMessageContaining("quota.loopDelayTarget must be at most 1s");
    assertThatThrownBy(() -> parse(MINIMAL + "quota: {loopDelayTarget: soon}\n"))
        .hasMessageContaining("loopDelayTarget must be a duration");
  }

  @Test
  void quota_sizes_out_of_range_or_malformed_are_refused_naming_the_field() {
    assertThatThrownBy(() -> parse(MINIMAL + "quota: {budget: 12 pages}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("quota.budget");
    assertThatThrownBy(() -> parse(MINIMAL + "quota: {budget: 1MiB, giveBack: 1MiB}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("quota.giveBack");
    assertThatThrownBy(() -> parse(MINIMAL + "quota: {budget: 1MiB, connectionWindow: 2MiB}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("quota.connectionWindow");
  }

  @Test
  void capture_mark_zero_or_garbage_is_refused_naming_the_field() {
    assertThatThrownBy(() -> parse(MINIMAL + "capture: {mark: 0}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("capture.mark");
    assertThatThrownBy(() -> parse(MINIMAL + "capture: {mark: lots}\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("capture.mark");
  }

  @Test
  void relative_paths_resolve_against_the_base_directory_and_absolute_ones_stay() {
    AgentConfig config = AgentConfig.parse("""
        node: node-1
        mesh: ../shared/mesh.yaml
        certs: /srv/certs
        """, SOURCE, Path.of("/opt/capstan/conf"));

    assertThat(config.mesh()).isEqualTo(new AgentConfig.MeshFile(Path.of("/opt/capstan/conf/../shared/mesh.yaml")));
    assertThat(config.certs()).isEqualTo(new AgentConfig.CertFiles(Path.of("/srv/certs")));
  }

  @Test
  void explicit_proxy_null_disables_it() {
    assertThat(parse(MINIMAL + "explicitProxy: null\n").explicitProxy()).isEmpty();
    assertThat(parse(MINIMAL + "explicitProxy:\n").explicitProxy()).isEmpty();
    assertThat(parse(MINIMAL).explicitProxy()).contains(new InetSocketAddress("127.0.0.1", 15080));
  }

  @Test
  void partial_sections_keep_the_other_defaults() {
    AgentConfig config = parse(MINIMAL + """
        pool:
          idleTimeout: 5m
        hbone:
          maxConcurrentStreams: 10
        """);

    assertThat(config.pool()).isEqualTo(new PoolConfig(100, Duration.ofMinutes(5)));
    HboneSettings defaults = HboneSettings.defaults();
    assertThat(config.hbone()).isEqualTo(new HboneSettings(
        defaults.streamWindow(), defaults.connectionWindow(), defaults.maxFrameSize(), 10, defaults.handshakeTimeout()));
  }

  @Test
  void controller_section_reads_the_mesh_from_hazelcast() {
    AgentConfig config = AgentConfig.parse("""
        node: node-1
        controller:
          clusterName: prod
          members: [10.0.0.2:5701, 10.0.0.3:5701]
        certs: /srv/certs
        """, SOURCE, Path.of("/opt/capstan/conf"));

    assertThat(config.mesh()).isEqualTo(new AgentConfig.Controller("prod", List.of("10.0.0.2:5701", "10.0.0.3:5701")));
  }

  @Test
  void ca_section_fetches_certificates_from_the_controller() {
    AgentConfig config = AgentConfig.parse("""
        node: node-1
        trustDomain: prod.example
        controller:
          members: [10.0.0.2:5701]
        ca:
          address: capstan-controller.capstan-system.svc:15012
          root: ca/root-cert.pem
          token: /var/run/secrets/capstan/token
        """, SOURCE, Path.of("/opt/capstan"));

    assertThat(config.certs()).isEqualTo(new AgentConfig.CertAuthority("capstan-controller.capstan-system.svc", 15012,
        Path.of("/opt/capstan/ca/root-cert.pem"), Path.of("/var/run/secrets/capstan/token"),
        SpiffeId.parse("spiffe://prod.example/ns/capstan-system/sa/capstan-controller")));
  }

  @Test
  void ca_without_address_is_refused() {
    assertThatThrownBy(() -> AgentConfig.parse("""
        node: node-1
        mesh: mesh.yaml
        ca:
          root: r.pem
          token: t
        """, SOURCE, Path.of("/etc/capstan")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ca.address is required");
  }

  @Test
  void controller_without_members_is_refused() {
    assertThatThrownBy(() -> AgentConfig.parse("""
        node: node-1
        controller:
          clusterName: capstan
        certs: certs
        """, SOURCE, Path.of("/etc/capstan")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("controller.members")
        .hasMessageContaining("at least one");
  }

  static Stream<Arguments> accessLogs() {
    return Stream.of(
        argumentSet("off", "off", AccessLogFormat.OFF),
        argumentSet("YAML false", "false", AccessLogFormat.OFF),
        argumentSet("text", "text", AccessLogFormat.TEXT),
        argumentSet("json", "json", AccessLogFormat.JSON),
        argumentSet("upper case", "JSON", AccessLogFormat.JSON,
        Optional.empty(),
        AgentConfig.QuotaConfig.defaults()));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("accessLogs")
  void access_log_format_is_read(String value, AccessLogFormat expected) {
    assertThat(parse(MINIMAL + "accessLog: " + value + "\n").accessLog()).isEqualTo(expected);
  }

  static Stream<Arguments> tlsEngines() {
    return Stream.of(
        argumentSet("auto", "auto", TlsEngine.AUTO),
        argumentSet("openssl", "openssl", TlsEngine.OPENSSL),
        argumentSet("jdk", "jdk", TlsEngine.JDK));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("tlsEngines")
  void tls_engine_is_read(String value, TlsEngine expected) {
    assertThat(parse(MINIMAL + "tlsEngine: " + value + "\n").tlsEngine()).isEqualTo(expected);
  }

  static Stream<Arguments> durations() {
    return Stream.of(
        argumentSet("milliseconds", "250ms", Duration.ofMillis(250)),
        argumentSet("seconds", "30s", Duration.ofSeconds(30)),
        argumentSet("minutes", "5m", Duration.ofMinutes(5)),
        argumentSet("hours", "1h", Duration.ofHours(1)),
        argumentSet("zero", "0s", Duration.ZERO));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("durations")
  void duration_units_are_read(String value, Duration expected) {
    assertThat(parse(MINIMAL + "drainTimeout: " + value + "\n").drainTimeout()).isEqualTo(expected);
  }

  /** Each case: the YAML added to a minimal config, then what the message must name. */
  static Stream<Arguments> badConfigs() {
    return Stream.of(
        argumentSet("unknown field (typo)", "hbonPort: 15008",
            List.of("agent.yaml: hbonPort", "not a known field")),
        argumentSet("unknown field in a section", "pool:\n  idleTimout: 5m",
            List.of("agent.yaml: pool.idleTimout", "not a known field")),
        argumentSet("unknown field in an upstream", "upstreams:\n  - listen: 127.0.0.1:9000\n    service: shop/backend\n    port: 80\n    tls: true",
            List.of("agent.yaml: upstreams[0].tls", "not a known field")),
        argumentSet("controller and mesh file both", "controller:\n  members: [127.0.0.1:5701]",
            List.of("agent.yaml: mesh", "controller", "exclude each other")),
        argumentSet("certs and ca both", "ca:\n  address: 127.0.0.1:15012\n  root: r.pem\n  token: t",
            List.of("agent.yaml: certs", "ca", "exclude each other")),
        argumentSet("duration in words", "connectTimeout: 5 minutes",
            List.of("agent.yaml: connectTimeout", "'5 minutes'")),
        argumentSet("duration without unit", "drainTimeout: 30",
            List.of("agent.yaml: drainTimeout", "'30'")),
        argumentSet("duration in days", "pool:\n  idleTimeout: 1d",
            List.of("agent.yaml: pool.idleTimeout", "'1d'")),
        argumentSet("negative duration", "reloadInterval: -1s",
            List.of("agent.yaml: reloadInterval", "'-1s'")),
        argumentSet("non-loopback admin", "admin: 10.0.0.7:15000",
            List.of("admin", "loopback", "10.0.0.7:15000")),
        argumentSet("wildcard admin", "admin: 0.0.0.0:15000",
            List.of("admin", "loopback", "0.0.0.0:15000")),
        argumentSet("address with a name", "metrics: localhost:80",
            List.of("agent.yaml: metrics", "'localhost:80'")),
        argumentSet("address without a port", "ready: 10.0.0.7",
            List.of("agent.yaml: ready", "'10.0.0.7'")),
        argumentSet("IPv6 address without brackets", "explicitProxy: ::1:3128",
            List.of("agent.yaml: explicitProxy", "'::1:3128'")),
        argumentSet("address with a port out of range", "metrics: 10.0.0.7:65536",
            List.of("agent.yaml: metrics", "'10.0.0.7:65536'")),
        argumentSet("upstream listen with a name", "upstreams:\n  - listen: localhost:9000\n    service: shop/backend\n    port: 80",
            List.of("agent.yaml: upstreams[0].listen", "'localhost:9000'")),
        argumentSet("upstream without listen", "upstreams:\n  - service: shop/backend\n    port: 80",
            List.of("agent.yaml: upstreams[0].listen", "required")),
        argumentSet("upstream service without slash", "upstreams:\n  - listen: 127.0.0.1:9000\n    service: backend\n    port: 80",
            List.of("agent.yaml: upstreams[0].service", "'backend'")),
        argumentSet("upstream service with upper case", "upstreams:\n  - listen: 127.0.0.1:9000\n    service: Shop/Backend\n    port: 80",
            List.of("agent.yaml: upstreams[0].service", "'Shop/Backend'")),
        argumentSet("upstream port out of range", "upstreams:\n  - listen: 127.0.0.1:9000\n    service: shop/backend\n    port: 70000",
            List.of("agent.yaml: upstreams[0].port", "70000")),
        argumentSet("upstreams not a list", "upstreams: shop/backend",
            List.of("agent.yaml: upstreams", "must be a list")),
        argumentSet("tlsEngine boring", "tlsEngine: boring",
            List.of("agent.yaml: tlsEngine", "'boring'")),
        argumentSet("accessLog xml", "accessLog: xml",
            List.of("agent.yaml: accessLog", "'xml'")),
        argumentSet("hbonePort above range", "hbonePort: 65536",
            List.of("agent.yaml: hbonePort", "65536")),
        argumentSet("hbonePort 0", "hbonePort: 0",
            List.of("agent.yaml: hbonePort", "got 0")),
        argumentSet("hbonePort not a number", "hbonePort: http",
            List.of("agent.yaml: hbonePort", "'http'")),
        argumentSet("hbonePort as a fraction", "hbonePort: 15008.5",
            List.of("agent.yaml: hbonePort", "15008.5")),
        argumentSet("workerThreads 0", "workerThreads: 0",
            List.of("agent.yaml: workerThreads", "got 0")),
        argumentSet("pool streams 0", "pool:\n  maxStreamsPerConnection: 0",
            List.of("agent.yaml: pool.maxStreamsPerConnection", "got 0")),
        argumentSet("hbone frame size too small", "hbone:\n  maxFrameSize: 1024",
            List.of("agent.yaml: hbone.maxFrameSize", "1024")),
        argumentSet("hbone connection window below stream window", "hbone:\n  streamWindow: 1048576\n  connectionWindow: 65535",
            List.of("agent.yaml: hbone", "connection >= stream")),
        argumentSet("section that is not a mapping", "pool: 100",
            List.of("agent.yaml: pool", "must be a mapping")));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("badConfigs")
  void bad_value_is_refused_naming_field_and_value(String yaml, List<String> named) {
    assertThatThrownBy(() -> parse(MINIMAL + yaml + "\n"))
        .isInstanceOf(ConfigException.class)
        .message()
        .contains(named);
  }

  static Stream<Arguments> badDocuments() {
    return Stream.of(
        argumentSet("invalid YAML", "node: [node-1\nmesh: mesh.yaml\n", List.of("agent.yaml", "not valid YAML")),
        argumentSet("tab indentation", "pool:\n\tidleTimeout: 5m\n", List.of("agent.yaml", "not valid YAML")),
        argumentSet("a list, not a mapping", "- node: node-1\n", List.of("agent.yaml", "must be a mapping")),
        argumentSet("empty document", "", List.of("agent.yaml", "must be a mapping")),
        argumentSet("missing node", "mesh: mesh.yaml\ncerts: certs\n", List.of("agent.yaml: node", "required")),
        argumentSet("missing mesh", "node: node-1\ncerts: certs\n", List.of("agent.yaml: mesh", "required")),
        argumentSet("missing certs", "node: node-1\nmesh: mesh.yaml\n", List.of("agent.yaml: certs", "required")),
        argumentSet("node given as a mapping", "node: {name: n}\nmesh: mesh.yaml\ncerts: certs\n",
            List.of("agent.yaml: node", "must be a string")));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("badDocuments")
  void bad_document_is_refused_naming_the_source(String yaml, List<String> named) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .message()
        .contains(named);
  }
}

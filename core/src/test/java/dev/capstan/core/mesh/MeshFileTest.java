package dev.capstan.core.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The mesh view file: a valid file gives the snapshot it describes; a bad one names the entry and field. */
class MeshFileTest {

  private static final String SOURCE = "mesh.yaml";

  /** Two workloads, {@code u1} (10.0.0.1) and {@code u2} (10.0.0.2, fd00::2), for the cases below. */
  private static final String WORKLOADS = """
      workloads:
        - uid: u1
          name: frontend-1
          namespace: shop
          ips: [10.0.0.1]
          node: node-1
        - uid: u2
          name: backend-1
          namespace: shop
          ips: [10.0.0.2, "fd00::2"]
          node: node-2
      """;

  private static MeshSnapshot parse(String text) {
    return MeshFile.parse(text, SOURCE);
  }

  @Test
  void valid_file_gives_its_workloads_services_and_policies() {
    MeshSnapshot snapshot = parse("""
        version: "42"
        workloads:
          - uid: u1
            name: frontend-1
            namespace: shop
            serviceAccount: frontend
            ips: [10.0.0.1]
            node: node-1
            labels: {app: frontend}
          - uid: u2
            name: backend-1
            namespace: shop
            ips: [10.0.0.2, "fd00::2"]
            node: node-2
            labels: {app: backend, version: v2}
            waypoint: shop-waypoint
        services:
          - namespace: shop
            name: backend
            vips: [10.96.0.10, "fd00:96::10"]
            ports:
              - {name: http, port: 80, targetPort: 8080}
              - {port: 443}
            endpoints:
              - {workload: u2}
              - {workload: u1, healthy: false}
        policies:
          - namespace: shop
            name: frontend-to-backend
            selector: {app: backend}
            rules:
              - principals: ["spiffe://cluster.local/ns/shop/sa/frontend"]
                ports: [8080]
              - namespaces: [billing]
          - namespace: shop
            name: no-billing-on-admin
            action: deny
            rules:
              - namespaces: [billing]
                ports: ["9090"]
        """);

    assertThat(snapshot).isEqualTo(new MeshSnapshot(
        "42",
        List.of(
            new Workload("u1", "frontend-1", "shop", "frontend", List.of("10.0.0.1"), "node-1", Map.of("app", "frontend"), null),
            new Workload("u2", "backend-1", "shop", "default", List.of("10.0.0.2", "fd00::2"), "node-2",
                Map.of("app", "backend", "version", "v2"), "shop-waypoint")),
        List.of(new Service("shop", "backend", List.of("10.96.0.10", "fd00:96::10"),
            List.of(new ServicePort("http", 80, 8080), new ServicePort("", 443, 443)),
            List.of(new Endpoint("u2", true), new Endpoint("u1", false)))),
        List.of(
            new AuthorizationPolicy("shop", "frontend-to-backend", Map.of("app", "backend"), PolicyAction.ALLOW, List.of(
                new PolicyRule(List.of("spiffe://cluster.local/ns/shop/sa/frontend"), List.of(), List.of(8080)),
                new PolicyRule(List.of(), List.of("billing"), List.of()))),
            new AuthorizationPolicy("shop", "no-billing-on-admin", Map.of(), PolicyAction.DENY, List.of(
                new PolicyRule(List.of(), List.of("billing"), List.of(9090)))))));
  }

  @Test
  void empty_mapping_is_an_empty_mesh_at_version_0() {
    assertThat(parse("{}")).isEqualTo(new MeshSnapshot("0", List.of(), List.of(), List.of()));
  }

  @Test
  void json_is_read_too() {
    MeshSnapshot snapshot = parse("""
        {"version": "7", "workloads": [{"uid": "u1", "name": "a", "namespace": "shop", "ips": ["10.0.0.1"], "node": "n"}]}
        """);

    assertThat(snapshot.version()).isEqualTo("7");
    assertThat(snapshot.workloads()).extracting(Workload::uid).containsExactly("u1");
  }

  @Test
  void action_is_case_insensitive() {
    MeshSnapshot snapshot = parse("""
        policies:
          - {namespace: shop, name: a, action: DENY}
          - {namespace: shop, name: b, action: Allow}
        """);

    assertThat(snapshot.policies()).extracting(AuthorizationPolicy::action).containsExactly(PolicyAction.DENY, PolicyAction.ALLOW);
  }

  @Test
  void match_strings_that_name_no_spiffe_identity_are_taken_as_written() {
    // Selector and label values and a rule's source namespaces are only compared, never turned
    // into a SPIFFE ID, so they need not be valid Kubernetes names.
    MeshSnapshot snapshot = parse(WORKLOADS.replace("name: backend-1", "name: backend-1\n    labels: {team: Payments Team}") + """
        policies:
          - namespace: shop
            name: odd-strings
            selector: {team: Payments Team}
            rules:
              - namespaces: [Not_A-Namespace, "*"]
        """);

    assertThat(snapshot.workloads().get(1).labels()).containsEntry("team", "Payments Team");
    assertThat(snapshot.policies()).singleElement().satisfies(p -> {
      assertThat(p.selector()).containsEntry("team", "Payments Team");
      assertThat(p.rules()).singleElement().extracting(PolicyRule::namespaces).isEqualTo(List.of("Not_A-Namespace", "*"));
    });
  }

  @Test
  void l7_rules_and_targets_are_read() {
    MeshSnapshot snapshot = parse("""
        policies:
          - namespace: shop
            name: reviews-api
            targets: [reviews]
            action: allow
            rules:
              - principals: ["spiffe://cluster.local/ns/shop/sa/web"]
                paths: [/api/*, "*.css"]
                methods: [GET]
                headers: {X-Tenant: [gold, "silver*"], x-debug: "*"}
        """);

    AuthorizationPolicy p = snapshot.policies().get(0);
    assertThat(p.targets()).containsExactly("reviews");
    assertThat(p.targeted()).isTrue();
    PolicyRule r = p.rules().get(0);
    assertThat(r.paths()).containsExactly("/api/*", "*.css");
    assertThat(r.methods()).containsExactly("GET");
    assertThat(r.headers()).as("names lower case").containsExactly(
        Map.entry("x-tenant", List.of("gold", "silver*")), Map.entry("x-debug", List.of("*")));
  }

  /** Each case: the file (after the two workloads above), then what the message must name. */
  static Stream<Arguments> badFiles() {
    return Stream.of(
        argumentSet("duplicate workload uid",
            "  - {uid: u1, name: again, namespace: shop, ips: [10.0.0.9], node: node-1}",
            List.of("mesh.yaml", "'u1'", "twice")),
        argumentSet("IP used by two workloads",
            "  - {uid: u3, name: thief, namespace: shop, ips: [10.0.0.1], node: node-1}",
            List.of("mesh.yaml", "10.0.0.1", "two workloads")),
        argumentSet("IPv6 used by two workloads, written differently",
            "  - {uid: u3, name: thief, namespace: shop, ips: [\"fd00:0:0:0:0:0:0:2\"], node: node-1}",
            List.of("mesh.yaml", "fd00:0:0:0:0:0:0:2", "two workloads")),
        argumentSet("name in ips",
            "  - {uid: u3, name: c, namespace: shop, ips: [backend.shop], node: node-1}",
            List.of("mesh.yaml: workloads[2].ips", "'backend.shop'")),
        argumentSet("IPv4 octet 256 in ips",
            "  - {uid: u3, name: c, namespace: shop, ips: [10.0.0.256], node: node-1}",
            List.of("mesh.yaml: workloads[2].ips", "'10.0.0.256'")),
        argumentSet("address with port in ips",
            "  - {uid: u3, name: c, namespace: shop, ips: [\"10.0.0.3:80\"], node: node-1}",
            List.of("mesh.yaml: workloads[2].ips", "'10.0.0.3:80'")),
        argumentSet("workload without uid",
            "  - {name: c, namespace: shop, ips: [10.0.0.3], node: node-1}",
            List.of("mesh.yaml: workloads[2].uid", "required")),
        argumentSet("workload without node",
            "  - {uid: u3, name: c, namespace: shop, ips: [10.0.0.3]}",
            List.of("mesh.yaml: workloads[2].node", "required")),
        argumentSet("unknown workload field",
            "  - {uid: u3, name: c, namespace: shop, serviceAcount: x, node: node-1}",
            List.of("mesh.yaml: workloads[2].serviceAcount", "not a known field")),
        argumentSet("ips not a list",
            "  - {uid: u3, name: c, namespace: shop, ips: 10.0.0.3, node: node-1}",
            List.of("mesh.yaml: workloads[2].ips", "must be a list")),
        argumentSet("endpoint of an unknown workload", """
            services:
              - namespace: shop
                name: backend
                endpoints: [{workload: u2}, {workload: ghost}]""",
            List.of("mesh.yaml: services[0].endpoints[1].workload", "'ghost'")),
        argumentSet("name in vips", """
            services:
              - {namespace: shop, name: backend, vips: [backend.shop.svc]}""",
            List.of("mesh.yaml: services[0].vips", "'backend.shop.svc'")),
        argumentSet("IPv6 in brackets in vips", """
            services:
              - {namespace: shop, name: backend, vips: ["[fd00::10]"]}""",
            List.of("mesh.yaml: services[0].vips", "'[fd00::10]'")),
        argumentSet("service port out of range", """
            services:
              - {namespace: shop, name: backend, ports: [{port: 70000}]}""",
            List.of("mesh.yaml: services[0].ports[0].port", "70000")),
        argumentSet("service target port out of range", """
            services:
              - {namespace: shop, name: backend, ports: [{port: 80}, {port: 81, targetPort: 65536}]}""",
            List.of("mesh.yaml: services[0].ports[1].targetPort", "65536")),
        argumentSet("service port missing", """
            services:
              - {namespace: shop, name: backend, ports: [{name: http}]}""",
            List.of("mesh.yaml: services[0].ports[0]", "out of range: 0")),
        argumentSet("service without name", """
            services:
              - {namespace: shop}""",
            List.of("mesh.yaml: services[0].name", "required")),
        argumentSet("action maybe", """
            policies:
              - {namespace: shop, name: p, action: maybe}""",
            List.of("mesh.yaml: policies[0].action", "'maybe'")),
        argumentSet("rule port out of range", """
            policies:
              - {namespace: shop, name: p, rules: [{ports: [80]}, {ports: [443, 70000]}]}""",
            List.of("mesh.yaml: policies[0].rules[1].ports", "'70000'")),
        argumentSet("rule port 0", """
            policies:
              - {namespace: shop, name: p, rules: [{ports: [0]}]}""",
            List.of("mesh.yaml: policies[0].rules[0].ports", "'0'")),
        argumentSet("rule port by name", """
            policies:
              - {namespace: shop, name: p, rules: [{ports: [http]}]}""",
            List.of("mesh.yaml: policies[0].rules[0].ports", "'http'")),
        argumentSet("unknown rule field", """
            policies:
              - {namespace: shop, name: p, rules: [{principal: ["*"]}]}""",
            List.of("mesh.yaml: policies[0].rules[0].principal", "not a known field")),
        argumentSet("selector and targets together", """
            policies:
              - {namespace: shop, name: p, selector: {app: a}, targets: [reviews]}""",
            List.of("mesh.yaml: policies[0]", "selector and targets are exclusive")),
        argumentSet("rule path without a slash", """
            policies:
              - {namespace: shop, name: p, targets: [reviews], rules: [{paths: [/ok, admin]}]}""",
            List.of("mesh.yaml: policies[0].rules[0].paths[1]", "'admin'")),
        argumentSet("rule header value not a string", """
            policies:
              - {namespace: shop, name: p, targets: [reviews], rules: [{headers: {x-a: [{b: c}]}}]}""",
            List.of("mesh.yaml: policies[0].rules[0].headers.x-a[0]", "must be a string")),
        argumentSet("policy without namespace", """
            policies:
              - {name: p}""",
            List.of("mesh.yaml: policies[0].namespace", "required")),
        argumentSet("unknown top-level field", "service: []",
            List.of("mesh.yaml: service", "not a known field")),
        argumentSet("invalid YAML", "services: [{namespace: shop",
            List.of("mesh.yaml", "not valid YAML")));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("badFiles")
  void bad_entry_is_refused_naming_it(String yaml, List<String> named) {
    assertThatThrownBy(() -> parse(WORKLOADS + yaml + "\n"))
        .isInstanceOf(ConfigException.class)
        .message()
        .contains(named);
  }

  @Test
  void document_that_is_not_a_mapping_is_refused() {
    assertThatThrownBy(() -> parse("- uid: u1\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("mesh.yaml")
        .hasMessageContaining("must be a mapping");
  }

  @Test
  void namespaces_give_buffer_weights_from_1_to_100() {
    MeshSnapshot mesh = MeshFile.parse("""
        namespaces:
          - {name: gold, bufferWeight: 4}
          - {name: plain}
        """, "mesh.yaml");
    assertThat(mesh.bufferWeights()).isEqualTo(java.util.Map.of("gold", 4, "plain", 1));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MeshFile.parse("namespaces: [{name: x, bufferWeight: 0}]", "mesh.yaml"))
        .hasMessageContaining("namespaces[0].bufferWeight");
  }
}

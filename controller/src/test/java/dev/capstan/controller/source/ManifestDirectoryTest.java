package dev.capstan.controller.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Named.named;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Waypoint;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ManifestDirectoryTest {

  @TempDir
  Path dir;

  static final String SHOP = """
      apiVersion: v1
      kind: Namespace
      metadata:
        name: shop
        labels:
          capstan.dev/mesh: enabled
      """;

  static final String FRONTEND = """
      apiVersion: v1
      kind: Pod
      metadata:
        name: frontend-1
        namespace: shop
        labels:
          app: frontend
      spec:
        nodeName: node-1
        serviceAccountName: frontend
      status:
        podIP: 127.0.1.10
      """;

  private void write(String name, String content) throws IOException {
    Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  private static MeshSnapshot valid(ManifestDirectory.Result result) {
    assertThat(result).isInstanceOf(ManifestDirectory.Valid.class);
    return ((ManifestDirectory.Valid) result).snapshot();
  }

  private List<String> problems(ManifestDirectory.Result result) {
    assertThat(result).isInstanceOf(ManifestDirectory.Invalid.class);
    return ((ManifestDirectory.Invalid) result).problems().stream()
        .map(p -> dir.relativize(p.file()) + ":" + p.line() + ": " + p.reason())
        .toList();
  }

  @Test
  void example_clusterless_mesh_loads() {
    MeshSnapshot snapshot = valid(ManifestDirectory.load(Path.of("..", "examples", "clusterless", "manifests")));

    String frontendUid = ManifestDirectory.derivedUid("Pod", "shop", "frontend-1");
    String backendUid = ManifestDirectory.derivedUid("Pod", "shop", "backend-v1-1");
    assertThat(snapshot.workloads()).containsExactly(
        new Workload(backendUid, "backend-v1-1", "shop", "backend", List.of("127.0.2.10"), "node-2",
            Map.of("app", "backend", "version", "v1"), null),
        new Workload(frontendUid, "frontend-1", "shop", "frontend", List.of("127.0.1.10"), "node-1",
            Map.of("app", "frontend"), null));
    assertThat(snapshot.services()).containsExactly(new Service("shop", "backend", List.of("127.0.100.10"),
        List.of(new ServicePort("http", 80, 9090)), List.of(new Endpoint(backendUid, true))));
    assertThat(snapshot.policies()).containsExactly(new AuthorizationPolicy("shop", "backend-from-frontend",
        Map.of("app", "backend"), PolicyAction.ALLOW,
        List.of(new PolicyRule(List.of("spiffe://cluster.local/ns/shop/sa/frontend"), List.of(), List.of(9090)))));
  }

  @Test
  void every_yaml_file_and_document_is_read_and_unknown_kinds_are_skipped() throws IOException {
    write("00-namespaces.yml", SHOP);
    write("pods.yaml", "# the frontend\n---\n" + FRONTEND + "---\n" + FRONTEND.replace("frontend-1", "frontend-2")
        .replace("127.0.1.10", "127.0.1.11") + "...\n");
    write("gateways.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: later
          namespace: shop
        """);
    write("notes.txt", "not: [yaml");
    write(".hidden.yaml", "not: [yaml");

    MeshSnapshot snapshot = valid(ManifestDirectory.load(dir));

    assertThat(snapshot.workloads()).extracting(Workload::name).containsExactly("frontend-1", "frontend-2");
    assertThat(snapshot.workloads()).allSatisfy(w -> assertThat(w.uid()).isNotBlank());
  }

  @Test
  void waypoints_and_routes_are_read_and_a_route_the_waypoint_cannot_act_on_is_left_out() throws IOException {
    write("00-namespaces.yml", SHOP);
    write("waypoint.yaml", """
        apiVersion: capstan.dev/v1alpha1
        kind: Waypoint
        metadata: {name: waypoint, namespace: shop}
        spec:
          replicas: 2
          resources: {requests: {cpu: 100m, memory: 64Mi}}
        ---
        apiVersion: capstan.dev/v1alpha1
        kind: Waypoint
        metadata: {name: defaults, namespace: shop}
        """);
    write("routes.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: backend, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: backend, port: 80}]
          rules: [{backendRefs: [{name: backend-v2, port: 80}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: users, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: users}]
          rules: [{matches: [{method: {service: shop.Users}}], backendRefs: [{name: users, port: 9090}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: unsupported, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: backend}]
          rules: [{sessionPersistence: {sessionName: s}}]
        """);

    MeshSnapshot snapshot = valid(ManifestDirectory.load(dir));

    assertThat(snapshot.waypoints()).containsExactly(
        new Waypoint("shop", "defaults", "defaults", 1, Waypoint.Compute.NONE, Waypoint.TrafficType.SERVICE),
        new Waypoint("shop", "waypoint", "waypoint", 2, new Waypoint.Compute(Map.of("cpu", "100m", "memory", "64Mi"), Map.of()),
            Waypoint.TrafficType.SERVICE));
    assertThat(snapshot.routes()).extracting(RouteManifest::key)
        .containsExactly("GRPCRoute/shop/users", "HTTPRoute/shop/backend");
  }

  @Test
  void namespace_defaults_to_default_and_phase_to_running() throws IOException {
    write("mesh.yaml", """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: default
          labels:
            capstan.dev/mesh: enabled
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          uid: 5f0c6a2e-0000-4000-8000-000000000001
        spec:
          nodeName: node-1
        status:
          podIPs:
            - ip: 127.0.1.5
            - ip: fd00::5
        """);

    MeshSnapshot snapshot = valid(ManifestDirectory.load(dir));

    assertThat(snapshot.workloads()).containsExactly(new Workload("5f0c6a2e-0000-4000-8000-000000000001", "web",
        "default", "default", List.of("127.0.1.5", "fd00::5"), "node-1", Map.of(), null));
  }

  @Test
  void same_directory_gives_the_same_version() throws IOException {
    write("mesh.yaml", SHOP + "---\n" + FRONTEND);

    assertThat(valid(ManifestDirectory.load(dir)).version()).isEqualTo(valid(ManifestDirectory.load(dir)).version());
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        arguments(named("pod without spec.nodeName", files("pods.yaml", FRONTEND.replace("  nodeName: node-1\n", ""))),
            List.of("pods.yaml:8: Pod frontend-1: spec.nodeName is required")),
        arguments(named("pod without an IP", files("pods.yaml", FRONTEND.replace("status:\n  podIP: 127.0.1.10\n", ""))),
            List.of("pods.yaml:1: Pod frontend-1: status.podIP is required (no one assigns pod IPs in clusterless mode)")),
        arguments(named("pod IP that is not an IP", files("pods.yaml", FRONTEND.replace("127.0.1.10", "127.0.1"))),
            List.of("pods.yaml:12: Pod frontend-1: status.podIP '127.0.1' is not a literal IP address")),
        arguments(named("YAML syntax error in the second document",
            files("pods.yaml", FRONTEND + "---\nkind: Pod\nmetadata:\n  name: [x\n")),
            List.of("pods.yaml:16: YAML syntax error: expected ',' or ']', but got <stream end>"
                + " (while parsing a flow sequence at line 16)")),
        arguments(named("tab indentation", files("pods.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n")),
            List.of("pods.yaml:4: YAML syntax error: found character '\\t(TAB)' that cannot start any token."
                + " (Do not use \\t(TAB) for indentation) (while scanning for the next token)")),
        arguments(named("field of the wrong type", files("pods.yaml",
            FRONTEND.replace("  serviceAccountName: frontend\n",
                "  containers:\n  - name: app\n    ports:\n    - containerPort: http\n"))),
            List.of("pods.yaml:13: Pod frontend-1: spec.containers[0].ports[0].containerPort has the wrong type:"
                + " Cannot deserialize value of type `java.lang.Integer` from String \"http\":"
                + " not a valid `java.lang.Integer` value")),
        arguments(named("duplicate key", files("pods.yaml", FRONTEND.replace("  nodeName: node-1\n",
            "  nodeName: node-1\n  nodeName: node-2\n"))),
            List.of("pods.yaml:10: YAML error: Duplicate field 'nodeName'")),
        arguments(named("the same object in two files", files("a.yaml", FRONTEND, "b.yaml", "# again\n" + FRONTEND)),
            List.of("b.yaml:5: Pod frontend-1: metadata.name is defined twice: Pod shop/frontend-1 is also at "
                + "{dir}/a.yaml:4")),
        arguments(named("namespace not declared", files("pods.yaml", FRONTEND.replace("namespace: shop", "namespace: shopp"))),
            List.of("pods.yaml:5: Pod frontend-1: metadata.namespace 'shopp' is not declared (add a Namespace manifest)")),
        arguments(named("two pods with one IP", files("pods.yaml", FRONTEND + "---\n" + FRONTEND.replace("frontend-1", "frontend-2"))),
            List.of("pods.yaml:25: Pod frontend-2: status.podIP 127.0.1.10 is also the IP of Pod shop/frontend-1 "
                + "({dir}/pods.yaml:4)")),
        arguments(named("wrong apiVersion for the kind", files("pods.yaml", FRONTEND.replace("apiVersion: v1", "apiVersion: v2"))),
            List.of("pods.yaml:1: Pod frontend-1: apiVersion must be v1, got 'v2'")),
        arguments(named("document without kind", files("pods.yaml", "apiVersion: v1\nmetadata:\n  name: x\n")),
            List.of("pods.yaml:1: a manifest needs apiVersion and kind (strings)")),
        arguments(named("document that is a list", files("pods.yaml", "- a\n- b\n")),
            List.of("pods.yaml:1: a manifest must be a mapping with apiVersion and kind")),
        arguments(named("mesh label with a typo", files("ns.yaml", SHOP.replace("enabled", "enable").replace("shop", "store"))),
            List.of("ns.yaml:6: Namespace store: metadata.labels.capstan.dev/mesh must be enabled or disabled, got 'enable'")),
        arguments(named("service with a bad targetPort and a bad clusterIP", files("svc.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: backend
              namespace: shop
            spec:
              clusterIP: 127.0.100.300
              ports:
                - name: http
                  port: 80
                  targetPort: 8080x_
            """)),
            List.of("svc.yaml:7: Service backend: spec.clusterIP '127.0.100.300' must be a literal IP address or None",
                "svc.yaml:11: Service backend: spec.ports[0].targetPort '8080x_' is not a port name"
                    + " (at most 15 lower-case letters, digits and '-', with a letter)")),
        arguments(named("policy with an unknown field", files("policy.yaml", """
            apiVersion: capstan.dev/v1alpha1
            kind: AuthorizationPolicy
            metadata:
              name: p
              namespace: shop
            spec:
              rules:
                - principal: [spiffe://cluster.local/ns/shop/sa/frontend]
            """)),
            List.of("policy.yaml:8: AuthorizationPolicy p: spec.rules[0].principal is not a known field"
                + " (known: headers, methods, namespaces, paths, ports, principals)")),
        arguments(named("policy with a bad action, principal, namespace and port", files("policy.yaml", """
            apiVersion: capstan.dev/v1alpha1
            kind: AuthorizationPolicy
            metadata:
              name: p
              namespace: shop
            spec:
              action: allow
              rules:
                - principals: [cluster.local/ns/shop/sa/frontend]
                  namespaces: [Shop]
                  ports: [0]
            """)),
            List.of("policy.yaml:7: AuthorizationPolicy p: spec.action must be ALLOW or DENY, got 'allow'",
                "policy.yaml:9: AuthorizationPolicy p: spec.rules[0].principals[0] 'cluster.local/ns/shop/sa/frontend'"
                    + " must be * or a SPIFFE ID (spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>)",
                "policy.yaml:10: AuthorizationPolicy p: spec.rules[0].namespaces[0] 'Shop' is not a namespace name",
                "policy.yaml:11: AuthorizationPolicy p: spec.rules[0].ports[0] must be a port number 1-65535")),
        arguments(named("policy without spec", files("policy.yaml", """
            apiVersion: capstan.dev/v1alpha1
            kind: AuthorizationPolicy
            metadata:
              name: p
              namespace: shop
            """)),
            List.of("policy.yaml:1: AuthorizationPolicy p: spec is required ({} is the deny-all policy)")),
        arguments(named("waypoint with values out of the CRD's rules", files("waypoint.yaml", """
            apiVersion: capstan.dev/v1alpha1
            kind: Waypoint
            metadata:
              name: waypoint
              namespace: shop
            spec:
              replicas: 200
              trafficType: sidecars
              serviceAccount: Waypoint
              resources:
                limits: {memory: lots}
            """)),
            List.of("waypoint.yaml:7: Waypoint waypoint: spec.replicas must be between 0 and 100, got 200",
                "waypoint.yaml:8: Waypoint waypoint: spec.trafficType must be service, workload, all or none, got 'sidecars'",
                "waypoint.yaml:9: Waypoint waypoint: spec.serviceAccount 'Waypoint' is not a valid name"
                    + " (lower-case letters, digits and '-', at most 253 characters)",
                "waypoint.yaml:11: Waypoint waypoint: spec.resources.limits.memory must be a quantity like 100m, 2 or 128Mi,"
                    + " got 'lots'")),
        arguments(named("waypoint whose name cannot name its Service", files("waypoint.yaml", """
            apiVersion: capstan.dev/v1alpha1
            kind: Waypoint
            metadata: {name: 1st, namespace: shop}
            """)),
            List.of("waypoint.yaml:3: Waypoint 1st: metadata.name '1st' is not a valid name (lower-case letters, digits"
                + " and '-', at most 63 characters)")),
        arguments(named("waypoint with an unknown field", files("waypoint.yaml", """
            apiVersion: capstan.dev/v1alpha1
            kind: Waypoint
            metadata: {name: waypoint, namespace: shop}
            spec: {mode: l7}
            """)),
            List.of("waypoint.yaml:4: Waypoint waypoint: spec.mode is not a known field"
                + " (known: replicas, resources, serviceAccount, trafficType)")),
        arguments(named("route without spec", files("route.yaml", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: shop}
            """)),
            List.of("route.yaml:1: HTTPRoute r: spec is required (a mapping)")),
        arguments(named("EndpointSlice without its service label", files("slice.yaml", """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: backend-1
              namespace: shop
            addressType: IPv4
            endpoints:
              - addresses: [127.0.2.10]
            """)),
            List.of("slice.yaml:3: EndpointSlice backend-1: metadata.labels must have kubernetes.io/service-name"
                + " (the service's name)")));
  }

  /** File name, content, file name, content... (the namespace {@code shop} is always added). */
  private static Map<String, String> files(String... namesAndContents) {
    Map<String, String> files = new LinkedHashMap<>();
    files.put("00-shop.yaml", SHOP);
    for (int i = 0; i < namesAndContents.length; i += 2) {
      files.put(namesAndContents[i], namesAndContents[i + 1]);
    }
    return files;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void invalid_input_is_rejected_with_file_line_and_reason(Map<String, String> files, List<String> expected)
      throws IOException {
    for (Map.Entry<String, String> f : files.entrySet()) {
      write(f.getKey(), f.getValue());
    }

    List<String> problems = problems(ManifestDirectory.load(dir));

    assertThat(problems).containsExactlyElementsOf(
        expected.stream().map(e -> e.replace("{dir}", dir.toString())).toList());
  }

  @Test
  void missing_directory_is_a_problem() {
    ManifestDirectory.Result result = ManifestDirectory.load(dir.resolve("absent"));

    assertThat(result).isInstanceOf(ManifestDirectory.Invalid.class);
    assertThat(((ManifestDirectory.Invalid) result).problems().get(0).toString())
        .startsWith(dir.resolve("absent") + ": cannot list the directory");
  }

  @Test
  void problem_prints_like_a_compiler_error() {
    assertThat(new ManifestDirectory.Problem(Path.of("demo", "pods.yaml"), 14, "Pod frontend-1: spec.nodeName is required"))
        .hasToString("demo/pods.yaml:14: Pod frontend-1: spec.nodeName is required");
  }
}

package dev.capstan.controller.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.TrafficPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TrafficPolicy and L7 AuthorizationPolicy manifests in a clusterless directory. */
class PolicyManifestDirectoryTest {

  @TempDir
  Path dir;

  private void write(String name, String content) throws IOException {
    Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  private List<String> problems(ManifestDirectory.Result result) {
    assertThat(result).isInstanceOf(ManifestDirectory.Invalid.class);
    return ((ManifestDirectory.Invalid) result).problems().stream()
        .map(p -> dir.relativize(p.file()) + ":" + p.line() + ": " + p.reason()).toList();
  }

  @Test
  void traffic_policies_and_targeted_l7_policies_are_read_and_a_bad_traffic_policy_is_only_left_out() throws IOException {
    write("00-shop.yaml", ManifestDirectoryTest.SHOP);
    write("policies.yaml", """
        apiVersion: capstan.dev/v1alpha1
        kind: TrafficPolicy
        metadata: {name: reviews, namespace: shop}
        spec:
          targetRefs: [{kind: Service, name: reviews}]
          rateLimit: {tokens: 10, fillInterval: 1s}
        ---
        apiVersion: capstan.dev/v1alpha1
        kind: TrafficPolicy
        metadata: {name: broken, namespace: shop}
        spec:
          retry: {retryOn: [teapot]}
        ---
        apiVersion: capstan.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: reviews-reads, namespace: shop}
        spec:
          targetRefs: [{kind: Service, name: reviews}]
          rules:
            - paths: [/reviews/*]
              methods: [GET]
              headers: {x-tenant: [gold]}
        """);

    ManifestDirectory.Result result = ManifestDirectory.load(dir);

    assertThat(result).isInstanceOf(ManifestDirectory.Valid.class);
    MeshSnapshot snapshot = ((ManifestDirectory.Valid) result).snapshot();
    assertThat(snapshot.trafficPolicies()).extracting(TrafficPolicy::key).containsExactly("shop/reviews");
    assertThat(snapshot.policies()).singleElement().satisfies(p -> {
      assertThat(p.targets()).containsExactly("reviews");
      assertThat(p.rules().get(0).paths()).containsExactly("/reviews/*");
      assertThat(p.rules().get(0).headers()).containsKey("x-tenant");
    });
  }

  @Test
  void an_authorization_policy_with_bad_l7_fields_is_rejected_with_file_line_and_reason() throws IOException {
    write("00-shop.yaml", ManifestDirectoryTest.SHOP);
    write("policy.yaml", """
        apiVersion: capstan.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: p, namespace: shop}
        spec:
          selector: {matchLabels: {app: reviews}}
          targetRefs: [{kind: Gateway, name: gw}]
          rules:
            - paths: [admin]
              methods: ["GET PUT"]
        """);

    assertThat(problems(ManifestDirectory.load(dir))).containsExactly(
        "policy.yaml:5: AuthorizationPolicy p: spec.selector and spec.targetRefs are exclusive (targetRefs: the services' waypoint enforces it)",
        "policy.yaml:6: AuthorizationPolicy p: spec.targetRefs[0].kind only Services can be targeted, got 'Gateway'",
        "policy.yaml:8: AuthorizationPolicy p: spec.rules[0].paths[0] 'admin' must be a path (/x), a prefix (/x/*), a suffix (*.css) or *",
        "policy.yaml:9: AuthorizationPolicy p: spec.rules[0].methods[0] 'GET PUT' is not an HTTP method");
  }
}

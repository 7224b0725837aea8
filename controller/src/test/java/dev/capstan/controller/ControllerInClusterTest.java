package dev.capstan.controller;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.freePortOn;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.testing.Replicas;
import dev.capstan.nodeagent.NodeAgent;
import dev.capstan.nodeagent.config.AgentConfig;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfoBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controller replica in "cluster" mode against fabric8's mock API server in CRUD mode (a real
 * fabric8 client over HTTP with real watches; no kube-apiserver can be had on this machine, so the
 * mock stands in, and TokenReview answers — which only a real API server computes — come from
 * expectations): informers → Hazelcast → a node agent, the root kept in a Secret and published in
 * a ConfigMap, leadership by Lease, and a certificate issued against a service-account token.
 */
@EnableKubernetesMockClient(crud = true)
class ControllerInClusterTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String AGENT_SA = "system:serviceaccount:capstan-system:capstan-node-agent";

  KubernetesMockServer server;
  KubernetesClient client;

  @TempDir
  Path dir;

  @Test
  void pods_in_an_enrolled_namespace_reach_the_agent_which_gets_certificates_with_its_pod_token() throws Exception {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop")
        .withLabels(Map.of("capstan.dev/mesh", "enabled")).endMetadata().build()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("capstan-system").endMetadata().build())
        .create();
    pod("shop", "frontend-1", "frontend", "node-a", "127.0.1.1");
    Pod agentPod = pod("capstan-system", "capstan-node-agent-x1", "capstan-node-agent", "node-a", "127.0.0.1");
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReturn(201, new TokenReviewBuilder()
        .withNewStatus().withAuthenticated(true).withAudiences("capstan-ca")
        .withUser(new UserInfoBuilder().withUsername(AGENT_SA).withExtra(Map.of(
            "authentication.kubernetes.io/pod-name", List.of("capstan-node-agent-x1"),
            "authentication.kubernetes.io/pod-uid", List.of(agentPod.getMetadata().getUid()),
            "authentication.kubernetes.io/node-name", List.of("node-a"))).build())
        .endStatus().build()).always();

    int hazelcastPort = freePortOn("127.0.0.1");
    int caPort = freePortOn("127.0.0.1");
    String cluster = "in-cluster-" + UUID.randomUUID();
    ControllerConfig config = ControllerConfig.parse("""
        name: controller-0
        kubernetes: {debounce: 20ms}
        hazelcast: {clusterName: %s, listen: "127.0.0.1:%d"}
        ca: {listen: "127.0.0.1:%d", serverNames: [localhost]}
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        """.formatted(cluster, hazelcastPort, caPort), "controller.yaml", dir);
    assertThat(config.leader()).isEqualTo(ControllerConfig.Leader.LEASE);
    assertThat(config.ca().root()).isInstanceOf(ControllerConfig.RootSecret.class);

    try (Controller controller = Controller.start(config, Optional.of(client))) {
      assertThat(client.secrets().inNamespace("capstan-system").withName("capstan-ca").get()).isNotNull();
      String root = client.configMaps().inNamespace("capstan-system").withName("capstan-ca-root").get()
          .getData().get("root-cert.pem");
      Files.writeString(dir.resolve("root-cert.pem"), root);
      Files.writeString(dir.resolve("token"), "projected-service-account-token");
      Replicas.eventually(controller::leader, WAIT, () -> "lease held");

      try (NodeAgent agent = NodeAgent.start(AgentConfig.parse("""
          node: node-a
          controller: {clusterName: %s, members: ["127.0.0.1:%d"]}
          ca: {address: "127.0.0.1:%d", root: root-cert.pem, token: token}
          hbonePort: %d
          admin: 127.0.0.1:0
          metrics: 127.0.0.1:0
          ready: 127.0.0.1:0
          explicitProxy: null
          workerThreads: 1
          drainTimeout: 1s
          """.formatted(cluster, hazelcastPort, caPort, freePortOn("127.0.1.1")), "agent.yaml", dir))) {
        Replicas.eventually(agent::ready, WAIT, () -> "agent ready: " + agent.configDump().get("certificates"));
        assertThat(agent.configDump().get("certificates").toString())
            .contains("spiffe://cluster.local/ns/shop/sa/frontend");

        // A pod scheduled later on the same node: its identity is issued as it appears.
        pod("shop", "reports-1", "reports", "node-a", "127.0.1.5");
        Replicas.eventually(() -> agent.configDump().get("certificates").toString()
            .contains("spiffe://cluster.local/ns/shop/sa/reports"), WAIT, () -> "reports certificate");
      }
    }
  }

  private Pod pod(String namespace, String name, String serviceAccount, String node, String ip) {
    return client.pods().inNamespace(namespace).resource(new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).withUid(UUID.randomUUID().toString()).endMetadata()
        .withNewSpec().withNodeName(node).withServiceAccountName(serviceAccount)
        .addNewContainer().withName("app").withImage("app").endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).endStatus()
        .build()).create();
  }
}

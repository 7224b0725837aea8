package dev.capstan.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.LocalPortForward;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * Installs the chart into a k3s cluster (Testcontainers) and sends pod-to-pod traffic through the
 * mesh: a client pod in an enrolled namespace reaches a server pod's Service, and the node agent
 * counts the connection. Needs a Docker engine and the images built by Jib as tarballs
 * ({@code ./mvnw -pl controller,node-agent,ztunnel-redirect,waypoint -am package jib:buildTar -DskipTests});
 * without either the test is skipped and says why.
 */
class ChartInstallK3sTest {

  private static final String K3S_IMAGE = "rancher/k3s:v1.31.4-k3s1";
  private static final List<String> MODULES = List.of("controller", "node-agent", "ztunnel-redirect", "waypoint");
  private static final String APP_NAMESPACE = "mesh-test";

  private static K3sContainer k3s;
  private static KubernetesClient client;
  private static Path kubeconfig;

  /** Skips (with a line in the build log saying why) unless a Docker engine and the images are here. */
  private static void startClusterOrSkip() throws Exception {
    skipUnless(DockerClientFactory.instance().isDockerAvailable(),
        "SKIPPED (needs a Docker engine): ChartInstallK3sTest runs a k3s cluster in a container and no Docker"
            + " engine is reachable here; the chart is still checked by ChartTest and CrdExamplesTest");
    List<Path> images = new ArrayList<>();
    for (String module : MODULES) {
      images.add(Helm.REPO.resolve(module).resolve("target/jib-image.tar"));
    }
    skipUnless(images.stream().allMatch(Files::isRegularFile),
        "SKIPPED (needs the Jib image tarballs): build them with ./mvnw -B -pl "
            + String.join(",", MODULES) + " -am package jib:buildTar -DskipTests; missing: "
            + images.stream().filter(p -> !Files.isRegularFile(p)).toList());

    k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE));
    k3s.start();
    for (Path image : images) {
      String inside = "/tmp/" + image.getParent().getParent().getFileName() + ".tar";
      k3s.copyFileToContainer(MountableFile.forHostPath(image), inside);
      Container.ExecResult r = k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", inside);
      assertThat(r.getExitCode()).as("importing " + image + ": " + r.getStderr()).isZero();
    }
    kubeconfig = Files.createTempFile("k3s", ".kubeconfig");
    Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();
  }

  private static void skipUnless(boolean condition, String message) {
    if (!condition) {
      System.err.println("ChartInstallK3sTest: " + message);
    }
    Assumptions.assumeTrue(condition, message);
  }

  @AfterAll
  static void stopCluster() throws IOException {
    if (client != null) {
      client.close();
    }
    if (k3s != null) {
      k3s.stop();
    }
    if (kubeconfig != null) {
      Files.deleteIfExists(kubeconfig);
    }
  }

  @Test
  void aMeshedClientReachesAMeshedServerAndTheNodeAgentCountsIt() throws Exception {
    startClusterOrSkip();
    // The NetworkPolicy needs the addresses the (host-network) node agents come from: the nodes' own.
    String nodeCidrs = client.nodes().list().getItems().stream()
        .flatMap(n -> n.getStatus().getAddresses().stream())
        .filter(a -> "InternalIP".equals(a.getType()) && !a.getAddress().contains(":"))
        .map(a -> a.getAddress() + "/32")
        .collect(Collectors.joining(",", "{", "}"));
    Helm.Result install = Helm.run(List.of(Helm.binary().toString(), "install", "capstan", Helm.CHART.toString(),
        "--namespace", Helm.NAMESPACE, "--create-namespace", "--kubeconfig", kubeconfig.toString(),
        "--set", "image.pullPolicy=Never", "--set", "controller.replicas=1",
        "--set", "networkPolicy.nodeCidrs=" + nodeCidrs, "--wait", "--timeout", "5m"), 360);
    assertThat(install.exit()).as(install.stdout() + install.stderr()).isZero();

    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(APP_NAMESPACE)
        .withLabels(Map.of("capstan.dev/mesh", "enabled")).endMetadata().build()).create();
    client.pods().inNamespace(APP_NAMESPACE).resource(new PodBuilder()
        .withNewMetadata().withName("server").withLabels(Map.of("app", "server")).endMetadata()
        .withNewSpec().addNewContainer().withName("httpd").withImage("busybox:1.36")
        .withCommand("sh", "-c", "echo hello-from-server > /tmp/index.html && exec httpd -f -p 8080 -h /tmp")
        .endContainer().endSpec().build()).create();
    client.services().inNamespace(APP_NAMESPACE).resource(new ServiceBuilder()
        .withNewMetadata().withName("server").endMetadata()
        .withNewSpec().withSelector(Map.of("app", "server")).addNewPort().withPort(8080).endPort().endSpec()
        .build()).create();
    client.pods().inNamespace(APP_NAMESPACE).resource(new PodBuilder()
        .withNewMetadata().withName("client").endMetadata()
        .withNewSpec().addNewContainer().withName("wget").withImage("busybox:1.36")
        .withCommand("sh", "-c", "for i in $(seq 1 120); do wget -qO- -T 2 http://server:8080/ && echo REACHED;"
            + " sleep 1; done; sleep 3600")
        .endContainer().endSpec().build()).create();

    client.pods().inNamespace(APP_NAMESPACE).withName("client").waitUntilReady(3, TimeUnit.MINUTES);
    String log = "";
    for (int i = 0; i < 120 && !log.contains("hello-from-server"); i++) {
      TimeUnit.SECONDS.sleep(1);
      log = client.pods().inNamespace(APP_NAMESPACE).withName("client").getLog();
    }
    assertThat(log).contains("hello-from-server");

    Pod agent = client.pods().inNamespace(Helm.NAMESPACE).withLabel("app.kubernetes.io/name", "capstan-node-agent")
        .list().getItems().get(0);
    try (LocalPortForward forward = client.pods().inNamespace(Helm.NAMESPACE).withName(agent.getMetadata().getName())
        .portForward(15020)) {
      HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + forward.getLocalPort() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.body()).containsPattern(
          "istio_tcp_connections_opened_total\\{[^}]*destination_workload_namespace=\"" + APP_NAMESPACE + "\"");
    }
  }
}

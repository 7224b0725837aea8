package dev.capstan.controller.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.ca.CertificateRequest;
import dev.capstan.core.ca.CertificateResponse;
import dev.capstan.core.ca.Csrs;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TrustBundle;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the CA's key lives: a directory, a Kubernetes Secret (fabric8's CRUD mock server: no
 * kube-apiserver can be had on this machine), or files the operator provides.
 */
@EnableKubernetesMockClient(crud = true)
class CaStoresTest {

  private static final String TD = "cluster.local";
  private static final String NS = "capstan-system";
  private static final Duration TEN_YEARS = Duration.ofDays(3650);

  KubernetesMockServer server;
  KubernetesClient client;

  @TempDir Path dir;

  @Test
  void file_store_creates_a_root_once_and_reloads_the_same_one() throws Exception {
    SigningCa created = new FileCaStore(dir, TD, TEN_YEARS, Clock.systemUTC()).signingCa();
    SigningCa reloaded = new FileCaStore(dir, TD, TEN_YEARS, Clock.systemUTC()).signingCa();

    assertThat(reloaded.root()).isEqualTo(created.root());
    assertThat(reloaded.key().getEncoded()).isEqualTo(created.key().getEncoded());
    assertThat(Files.getPosixFilePermissions(dir.resolve("root-key.pem"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(dir.resolve("root-cert.pem"))).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(created.root().getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(created.root().getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(Duration.between(created.root().getNotBefore().toInstant(), created.root().getNotAfter().toInstant()))
        .isGreaterThanOrEqualTo(TEN_YEARS);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp"))).isEmpty();
    }
  }

  @Test
  void file_stores_racing_on_one_directory_end_with_one_root() throws Exception {
    Path shared = dir.resolve("ca");
    List<SigningCa> results = race(8, () -> new FileCaStore(shared, TD, TEN_YEARS, Clock.systemUTC()).signingCa());

    assertThat(results).extracting(SigningCa::root).containsOnly(results.get(0).root());
  }

  @Test
  void file_store_refuses_a_certificate_without_its_key() throws Exception {
    new FileCaStore(dir, TD, TEN_YEARS, Clock.systemUTC()).signingCa();
    Files.delete(dir.resolve("root-key.pem"));

    assertThatThrownBy(() -> new FileCaStore(dir, TD, TEN_YEARS, Clock.systemUTC()).signingCa())
        .isInstanceOf(CaStoreException.class)
        .hasMessageContaining("no root-key.pem");
  }

  @Test
  void file_store_refuses_a_key_of_another_certificate() throws Exception {
    new FileCaStore(dir, TD, TEN_YEARS, Clock.systemUTC()).signingCa();
    Files.writeString(dir.resolve("root-key.pem"), Pem.encodeKey(TestCsrs.p256().getPrivate()));

    assertThatThrownBy(() -> new FileCaStore(dir, TD, TEN_YEARS, Clock.systemUTC()).signingCa())
        .isInstanceOf(CaStoreException.class)
        .hasMessageContaining("does not belong to the signing certificate");
  }

  @Test
  void secret_store_creates_the_secret_once_and_reloads_it() {
    SigningCa created = new SecretCaStore(client, NS, TD, TEN_YEARS, Clock.systemUTC()).signingCa();
    SigningCa reloaded = new SecretCaStore(client, NS, TD, TEN_YEARS, Clock.systemUTC()).signingCa();

    assertThat(reloaded.root()).isEqualTo(created.root());
    assertThat(reloaded.key().getEncoded()).isEqualTo(created.key().getEncoded());
    var secret = client.secrets().inNamespace(NS).withName("capstan-ca").get();
    assertThat(secret.getData()).containsOnlyKeys("root-cert.pem", "root-key.pem");
  }

  @Test
  void replica_losing_the_create_race_reads_the_winners_root() {
    SigningCa winner = new SecretCaStore(client, NS, TD, TEN_YEARS, Clock.systemUTC()).signingCa();
    // The loser read before the winner created: its GET sees nothing, its POST then conflicts (409).
    server.expect().get().withPath("/api/v1/namespaces/" + NS + "/secrets/capstan-ca").andReturn(404, null).once();

    SigningCa loser = new SecretCaStore(client, NS, TD, TEN_YEARS, Clock.systemUTC()).signingCa();

    assertThat(loser.root()).isEqualTo(winner.root());
    assertThat(loser.key().getEncoded()).isEqualTo(winner.key().getEncoded());
  }

  @Test
  void secret_stores_racing_end_with_one_root() throws Exception {
    List<SigningCa> results = race(4, () -> new SecretCaStore(client, NS, TD, TEN_YEARS, Clock.systemUTC()).signingCa());

    X509Certificate stored = SigningCa.fromPem(
        decode(client.secrets().inNamespace(NS).withName("capstan-ca").get().getData().get("root-cert.pem")),
        decode(client.secrets().inNamespace(NS).withName("capstan-ca").get().getData().get("root-key.pem")), "secret").root();
    assertThat(results).extracting(SigningCa::root).containsOnly(stored);
  }

  @Test
  void root_is_published_in_a_config_map_and_replaced_when_the_root_changes() {
    SigningCa first = SigningCa.selfSigned(TD, Clock.systemUTC(), TEN_YEARS);
    SigningCa second = SigningCa.selfSigned(TD, Clock.systemUTC(), TEN_YEARS);
    RootConfigMap publisher = new RootConfigMap(client, NS);

    publisher.publish(first);
    ConfigMap cm = client.configMaps().inNamespace(NS).withName("capstan-ca-root").get();
    assertThat(cm.getData()).containsExactly(Map.entry("root-cert.pem", first.rootPem()));

    publisher.publish(second);
    publisher.publish(second);
    cm = client.configMaps().inNamespace(NS).withName("capstan-ca-root").get();
    assertThat(cm.getData()).containsExactly(Map.entry("root-cert.pem", second.rootPem()));
  }

  @Test
  void provided_intermediate_signs_leaves_that_chain_to_the_offline_root() throws Exception {
    Provided provided = provided(true, true);

    SigningCa ca = provided.source().signingCa();
    CertificateAuthority authority = new CertificateAuthority(CaConfig.of(TD, NS), ca,
        token -> new Caller("node-a", "test"), (node, ns, sa) -> true, new CaMetrics(new SimpleMeterRegistry()), Clock.systemUTC());
    SpiffeId id = SpiffeId.of(TD, "shop", "frontend");
    KeyPair key = TestCsrs.p256();
    CertificateResponse answer = authority.issue(Optional.of("t"), CertificateRequest.of(Csrs.create(id, key), 0), "test");

    assertThat(answer.certChainPem()).hasSize(3);
    List<X509Certificate> chain = Pem.certificates(String.join("", answer.certChainPem()));
    assertThat(chain.get(1)).isEqualTo(provided.signing());
    assertThat(chain.get(2)).isEqualTo(provided.root());
    assertThat(new SpiffeTrustManager(TD, new TrustBundle(List.of(provided.root())), Clock.systemUTC())
        .verify(chain.toArray(new X509Certificate[0]))).isEqualTo(id);
  }

  @Test
  void provided_certificate_that_is_not_a_ca_is_refused() throws Exception {
    ProvidedCa source = provided(false, true).source();

    assertThatThrownBy(source::signingCa)
        .isInstanceOf(CaStoreException.class)
        .hasMessageContaining("is not a CA");
  }

  @Test
  void provided_chain_without_its_root_is_refused() throws Exception {
    ProvidedCa source = provided(true, false).source();

    assertThatThrownBy(source::signingCa)
        .isInstanceOf(CaStoreException.class)
        .hasMessageContaining("must end with the self-signed root");
  }

  @Test
  void missing_provided_files_are_named_in_the_error() {
    assertThatThrownBy(() -> new ProvidedCa(dir.resolve("nope.pem"), dir.resolve("key.pem")).signingCa())
        .isInstanceOf(CaStoreException.class)
        .hasMessageContaining("nope.pem");
  }

  /** An offline root and a certificate it signs (a CA or not), the latter's key written as the provided CA. */
  private record Provided(X509Certificate root, X509Certificate signing, ProvidedCa source) {}

  private Provided provided(boolean signingIsCa, boolean includeRoot) throws Exception {
    KeyPair rootKey = TestCsrs.p256();
    KeyPair signingKey = TestCsrs.p256();
    X509Certificate root = TestCsrs.certificate("CN=offline root", rootKey, null, rootKey, true);
    X509Certificate signing = TestCsrs.certificate("CN=capstan signer", signingKey, root, rootKey, signingIsCa);
    Files.writeString(dir.resolve("cert-chain.pem"), includeRoot ? Pem.encode(List.of(signing, root)) : Pem.encode(signing));
    Files.writeString(dir.resolve("key.pem"), Pem.encodeKey(signingKey.getPrivate()));
    return new Provided(root, signing, new ProvidedCa(dir.resolve("cert-chain.pem"), dir.resolve("key.pem")));
  }

  private static <T> List<T> race(int n, Callable<T> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CyclicBarrier start = new CyclicBarrier(n);
      List<Future<T>> futures = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(pool.submit(() -> {
          start.await();
          return task.call();
        }));
      }
      List<T> out = new java.util.ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get(30, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static String decode(String base64) {
    return new String(java.util.Base64.getDecoder().decode(base64), java.nio.charset.StandardCharsets.US_ASCII);
  }
}

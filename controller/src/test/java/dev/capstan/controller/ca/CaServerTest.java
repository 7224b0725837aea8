package dev.capstan.controller.ca;

import static dev.capstan.controller.ca.TestCsrs.csr;
import static dev.capstan.controller.ca.TestCsrs.dns;
import static dev.capstan.controller.ca.TestCsrs.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.capstan.core.ca.CaClient;
import dev.capstan.core.ca.CaException;
import dev.capstan.core.ca.CaProtocol;
import dev.capstan.core.ca.CertificateRequest;
import dev.capstan.core.ca.CertificateResponse;
import dev.capstan.core.ca.Csrs;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TrustBundle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A real CA server on port 0 with real TLS, called by the node agent's real {@link CaClient},
 * clusterless (bootstrap tokens): what is issued, what is refused with which status and reason,
 * and that nothing is issued that should not be.
 */
class CaServerTest {

  private static final String TD = "cluster.local";
  private static final SpiffeId FRONTEND = SpiffeId.of(TD, "shop", "frontend");
  private static final SpiffeId ADMIN = SpiffeId.of(TD, "shop", "admin");
  private static final SpiffeId BACKEND = SpiffeId.of(TD, "shop", "backend");
  private static final String TOKEN_A = "node-a-token-0123456789abcdef";
  private static final String TOKEN_B = "node-b-token-0123456789abcdef";

  /** Workloads by node: frontend and admin on node-a, backend on node-b. */
  private static final Map<String, Set<String>> PLACEMENT = Map.of(
      "node-a", Set.of("shop/frontend", "shop/admin"),
      "node-b", Set.of("shop/backend"));

  private static Vertx vertx;
  private static SigningCa ca;

  @TempDir Path dir;
  private PrometheusMeterRegistry registry;
  private CaConfig config;
  private CaServer server;
  private final List<CaClient> clients = new ArrayList<>();

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
    ca = SigningCa.selfSigned(TD, Clock.systemUTC(), Duration.ofDays(3650));
  }

  @AfterAll
  static void stopVertx() throws Exception {
    await(vertx.close());
  }

  @BeforeEach
  void startServer() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    config = CaConfig.of(TD, "capstan-system").withListen("127.0.0.1", 0);
    Placement placement = (node, ns, sa) -> PLACEMENT.getOrDefault(node, Set.of()).contains(ns + "/" + sa);
    Authenticator tokens = new BootstrapTokens(Map.of("node-a", TOKEN_A, "node-b", TOKEN_B));
    server = await(new CaServer(vertx, config, ca, tokens, placement, registry, Clock.systemUTC()).start());
    Files.writeString(dir.resolve("a"), TOKEN_A + "\n");
    Files.writeString(dir.resolve("b"), TOKEN_B);
    Files.writeString(dir.resolve("forged"), "node-a-token-0123456789abcdeX");
    Files.writeString(dir.resolve("empty"), "");
  }

  @AfterEach
  void stopServer() throws Exception {
    for (CaClient c : clients) {
      await(c.close());
    }
    await(server.close());
  }

  @Test
  void allowed_request_gets_a_24h_leaf_naming_exactly_the_identity() throws Exception {
    KeyPair key = TestCsrs.p256();
    Instant before = Instant.now();

    CertifiedKey issued = client("a").sign(FRONTEND, key, Csrs.create(FRONTEND, key)).toCompletableFuture().get(10, TimeUnit.SECONDS);

    X509Certificate leaf = issued.leaf();
    assertThat(issued.identity()).isEqualTo(FRONTEND);
    assertThat(issued.chain()).hasSize(2);
    assertThat(issued.chain().get(1)).isEqualTo(ca.root());
    assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic());
    Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
    assertThat(sans).hasSize(1);
    assertThat(List.<Object>copyOf(sans.iterator().next())).containsExactly(6, FRONTEND.uri());
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15", "2.5.29.17");
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getKeyUsage()).containsExactly(true, false, false, false, false, false, false, false, false);
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getSerialNumber().signum()).isPositive();
    assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withECDSA");
    Instant notAfter = leaf.getNotAfter().toInstant();
    assertThat(notAfter).isBetween(before.plus(Duration.ofHours(24)).minusSeconds(1), Instant.now().plus(Duration.ofHours(24)));
    assertThat(leaf.getNotBefore().toInstant()).isBefore(before);
    SpiffeId verified = new SpiffeTrustManager(TD, new TrustBundle(List.of(ca.root())), Clock.systemUTC())
        .verify(issued.chain().toArray(new X509Certificate[0]));
    assertThat(verified).isEqualTo(FRONTEND);
    assertThat(issuedCount()).isEqualTo(1);
    assertThat(registry.get("capstan_ca_signing_duration").timer().count()).isEqualTo(1);
  }

  @Test
  void each_node_gets_the_identities_scheduled_on_it() throws Exception {
    assertThat(issue("a", FRONTEND).identity()).isEqualTo(FRONTEND);
    assertThat(issue("a", ADMIN).identity()).isEqualTo(ADMIN);
    assertThat(issue("b", BACKEND).identity()).isEqualTo(BACKEND);
    assertThat(issuedCount()).isEqualTo(3);
  }

  @Test
  void service_account_not_on_the_callers_node_is_refused() {
    assertDenied(deny("a", BACKEND, csrFor(BACKEND)), GrpcStatus.PERMISSION_DENIED, "not_on_node");
  }

  @Test
  void token_of_another_node_cannot_get_this_nodes_identity() {
    assertDenied(deny("b", FRONTEND, csrFor(FRONTEND)), GrpcStatus.PERMISSION_DENIED, "not_on_node");
  }

  @Test
  void forged_token_is_refused() {
    assertDenied(deny("forged", FRONTEND, csrFor(FRONTEND)), GrpcStatus.UNAUTHENTICATED, "invalid_token");
  }

  @Test
  void missing_token_is_refused() {
    assertDenied(deny("empty", FRONTEND, csrFor(FRONTEND)), GrpcStatus.UNAUTHENTICATED, "missing_token");
  }

  @Test
  void unreadable_token_file_fails_locally_without_calling() {
    CaException e = deny("does-not-exist", FRONTEND, csrFor(FRONTEND));

    assertThat(e.status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(e.getMessage()).contains("cannot read the CA token");
    assertThat(totalRequests()).isZero();
  }

  static Stream<Arguments> tampered_csrs() {
    KeyPair key = TestCsrs.p256();
    return Stream.of(
        Arguments.of("two URI SANs", (Supplier<String>) () -> csr(key, uri(FRONTEND.uri()), uri(ADMIN.uri())),
            GrpcStatus.INVALID_ARGUMENT, "bad_san"),
        Arguments.of("URI SAN plus a DNS SAN", (Supplier<String>) () -> csr(key, uri(FRONTEND.uri()), dns("frontend.shop.svc")),
            GrpcStatus.INVALID_ARGUMENT, "bad_san"),
        Arguments.of("DNS SAN only", (Supplier<String>) () -> csr(key, dns("frontend.shop.svc")),
            GrpcStatus.INVALID_ARGUMENT, "bad_san"),
        Arguments.of("no SAN", (Supplier<String>) () -> csr(key),
            GrpcStatus.INVALID_ARGUMENT, "bad_san"),
        Arguments.of("URI SAN that is not SPIFFE", (Supplier<String>) () -> csr(key, uri("https://evil.example/ns/shop/sa/frontend")),
            GrpcStatus.INVALID_ARGUMENT, "bad_san"),
        Arguments.of("SPIFFE ID with an extra path segment", (Supplier<String>) () -> csr(key, uri(FRONTEND.uri() + "/x")),
            GrpcStatus.INVALID_ARGUMENT, "bad_san"),
        Arguments.of("SPIFFE ID of another trust domain", (Supplier<String>) () -> csr(key, uri("spiffe://evil.local/ns/shop/sa/frontend")),
            GrpcStatus.PERMISSION_DENIED, "foreign_trust_domain"),
        Arguments.of("SPIFFE ID of another service account than requested", (Supplier<String>) () -> csr(key, uri(BACKEND.uri())),
            GrpcStatus.PERMISSION_DENIED, "not_on_node"),
        Arguments.of("same service account name in another namespace", (Supplier<String>) () -> csr(key, uri("spiffe://cluster.local/ns/other/sa/frontend")),
            GrpcStatus.PERMISSION_DENIED, "not_on_node"),
        Arguments.of("RSA key", (Supplier<String>) () -> csr(TestCsrs.rsa(), uri(FRONTEND.uri())),
            GrpcStatus.INVALID_ARGUMENT, "unsupported_key"),
        Arguments.of("P-384 key", (Supplier<String>) () -> csr(TestCsrs.ec("secp384r1"), uri(FRONTEND.uri())),
            GrpcStatus.INVALID_ARGUMENT, "unsupported_key"),
        Arguments.of("broken signature", (Supplier<String>) () -> TestCsrs.badSignature(key, uri(FRONTEND.uri())),
            GrpcStatus.INVALID_ARGUMENT, "bad_csr_signature"),
        Arguments.of("not PEM at all", (Supplier<String>) () -> "hello, CA",
            GrpcStatus.INVALID_ARGUMENT, "malformed_csr"),
        Arguments.of("empty CSR", (Supplier<String>) () -> "",
            GrpcStatus.INVALID_ARGUMENT, "malformed_csr"),
        Arguments.of("a certificate instead of a CSR", (Supplier<String>) () -> ca.rootPem(),
            GrpcStatus.INVALID_ARGUMENT, "malformed_csr"),
        Arguments.of("two CSRs", (Supplier<String>) () -> csr(key, uri(FRONTEND.uri())) + csr(key, uri(ADMIN.uri())),
            GrpcStatus.INVALID_ARGUMENT, "malformed_csr"),
        Arguments.of("truncated DER", (Supplier<String>) () -> truncate(csr(key, uri(FRONTEND.uri()))),
            GrpcStatus.INVALID_ARGUMENT, "malformed_csr"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tampered_csrs")
  void tampered_or_malformed_csr_is_refused(String name, Supplier<String> csr, GrpcStatus status, String reason) {
    assertDenied(deny("a", FRONTEND, csr.get()), status, reason);
  }

  @Test
  void client_refuses_an_answer_for_another_identity_than_it_asked_for() {
    // The CA honestly issues what the CSR names (admin runs on node-a); the client asked for frontend.
    CaException e = deny("a", FRONTEND, csrFor(ADMIN));

    assertThat(e.status()).isEqualTo(GrpcStatus.INTERNAL);
    assertThat(e.getMessage()).contains("CA issued a certificate for " + ADMIN + ", not for " + FRONTEND);
  }

  @Test
  void client_refuses_an_answer_for_another_key() {
    KeyPair mine = TestCsrs.p256();
    KeyPair other = TestCsrs.p256();

    CaException e = caught(client("a").sign(FRONTEND, mine, Csrs.create(FRONTEND, other)).toCompletableFuture());

    assertThat(e.getMessage()).contains("another key");
  }

  @Test
  void longer_validity_than_allowed_is_shortened_and_shorter_is_kept() throws Exception {
    X509Certificate longAsk = Pem.certificates(call(TOKEN_A, new CertificateRequest(csrFor(FRONTEND), 48 * 3600, Map.of())).chain().get(0)).get(0);
    X509Certificate shortAsk = Pem.certificates(call(TOKEN_A, new CertificateRequest(csrFor(FRONTEND), 3600, Map.of())).chain().get(0)).get(0);

    assertThat(lifetime(longAsk)).isEqualTo(Duration.ofHours(24).plusMinutes(1));
    assertThat(lifetime(shortAsk)).isEqualTo(Duration.ofHours(1).plusMinutes(1));
  }

  @Test
  void negative_validity_is_refused() throws Exception {
    Answer answer = call(TOKEN_A, new CertificateRequest(csrFor(FRONTEND), -1, Map.of()));

    assertThat(answer.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(answer.message()).startsWith("bad_validity");
    assertThat(issuedCount()).isZero();
  }

  @Test
  void undecodable_request_bytes_are_refused_with_invalid_argument() throws Exception {
    GrpcClient raw = GrpcClient.client(vertx, rawHttpOptions());
    try {
      var request = await(raw.request(SocketAddress.inetSocketAddress(server.port(), "localhost")));
      request.fullMethodName(CaProtocol.SERVER_METHOD.fullMethodName());
      request.headers().set(CaProtocol.AUTHORIZATION, CaProtocol.bearer(TOKEN_A));
      var response = await(request.send(Buffer.buffer(new byte[] {0x0a, 100, 1, 2})));
      await(response.end().recover(e -> Future.succeededFuture()));

      assertThat(response.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(response.statusMessage()).startsWith("malformed_request").contains("truncated");
      assertThat(deniedCount("malformed_request")).isEqualTo(1);
      assertThat(issuedCount()).isZero();
    } finally {
      await(raw.close());
    }
  }

  @Test
  void client_refuses_a_server_with_another_identity() throws Exception {
    CaClient wrongId = new CaClient(vertx, CaClient.Settings.of("127.0.0.1", server.port(), dir.resolve("a"),
        SpiffeId.of(TD, "capstan-system", "impostor")), new TrustBundle(List.of(ca.root())), TD, Clock.systemUTC());
    clients.add(wrongId);

    CaException e = caught(wrongId.sign(FRONTEND, TestCsrs.p256(), csrFor(FRONTEND)).toCompletableFuture());

    assertThat(e.status()).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(totalRequests()).isZero();
  }

  @Test
  void client_refuses_a_server_outside_the_mesh_root() throws Exception {
    SigningCa otherRoot = SigningCa.selfSigned(TD, Clock.systemUTC(), Duration.ofDays(1));
    CaClient untrusting = new CaClient(vertx, CaClient.Settings.of("127.0.0.1", server.port(), dir.resolve("a"),
        config.serverIdentity()), new TrustBundle(List.of(otherRoot.root())), TD, Clock.systemUTC());
    clients.add(untrusting);

    CaException e = caught(untrusting.sign(FRONTEND, TestCsrs.p256(), csrFor(FRONTEND)).toCompletableFuture());

    assertThat(e.status()).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(totalRequests()).isZero();
  }

  @Test
  void client_can_verify_the_server_by_dns_name() throws Exception {
    CaClient.Settings byName = new CaClient.Settings("127.0.0.1", server.port(), dir.resolve("a"),
        new CaClient.ServerCheck.ByName("localhost"), Duration.ofSeconds(10), Duration.ZERO);
    CaClient.Settings wrongName = new CaClient.Settings("127.0.0.1", server.port(), dir.resolve("a"),
        new CaClient.ServerCheck.ByName("evil.example"), Duration.ofSeconds(10), Duration.ZERO);
    CaClient good = new CaClient(vertx, byName, new TrustBundle(List.of(ca.root())), TD, Clock.systemUTC());
    CaClient bad = new CaClient(vertx, wrongName, new TrustBundle(List.of(ca.root())), TD, Clock.systemUTC());
    clients.add(good);
    clients.add(bad);
    KeyPair key = TestCsrs.p256();

    assertThat(good.sign(FRONTEND, key, Csrs.create(FRONTEND, key)).toCompletableFuture().get(10, TimeUnit.SECONDS).identity())
        .isEqualTo(FRONTEND);
    assertThat(caught(bad.sign(FRONTEND, key, Csrs.create(FRONTEND, key)).toCompletableFuture()).status())
        .isEqualTo(GrpcStatus.UNAVAILABLE);
  }

  @Test
  void server_certificate_names_the_controller_and_its_dns_names_and_is_renewed() throws Exception {
    X509Certificate first = presented();
    assertThat(SpiffeId.fromCertificate(first)).isEqualTo(config.serverIdentity());
    assertThat(first.getSubjectAlternativeNames().stream().map(san -> String.valueOf(san.get(1))).toList())
        .containsExactlyInAnyOrder(config.serverIdentity().uri(), "capstan-controller.capstan-system.svc", "localhost");

    await(server.renew());
    X509Certificate second = presented();

    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    assertThat(second).isEqualTo(server.servingCertificate().leaf());
    assertThat(issue("a", FRONTEND).identity()).isEqualTo(FRONTEND);
  }

  @Test
  void concurrent_requests_are_all_answered() throws Exception {
    CaClient client = client("a");
    List<CompletableFuture<CertifiedKey>> answers = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      KeyPair key = TestCsrs.p256();
      SpiffeId id = i % 2 == 0 ? FRONTEND : ADMIN;
      answers.add(client.sign(id, key, Csrs.create(id, key)).toCompletableFuture());
    }
    CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);

    assertThat(issuedCount()).isEqualTo(16);
  }

  @Test
  void authentication_and_placement_run_off_the_event_loop() throws Exception {
    List<Boolean> onEventLoop = new java.util.concurrent.CopyOnWriteArrayList<>();
    Authenticator recording = token -> {
      onEventLoop.add(io.vertx.core.Context.isOnEventLoopThread());
      return new Caller("node-a", "recording");
    };
    Placement placement = (node, ns, sa) -> {
      onEventLoop.add(io.vertx.core.Context.isOnEventLoopThread());
      return true;
    };
    CaServer other = await(new CaServer(vertx, config, ca, recording, placement, registry, Clock.systemUTC()).start());
    try {
      CaClient c = new CaClient(vertx, CaClient.Settings.of("127.0.0.1", other.port(), dir.resolve("a"),
          config.serverIdentity()), new TrustBundle(List.of(ca.root())), TD, Clock.systemUTC());
      clients.add(c);
      KeyPair key = TestCsrs.p256();
      c.sign(FRONTEND, key, Csrs.create(FRONTEND, key)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      await(other.close());
    }

    assertThat(onEventLoop).containsExactly(false, false);
  }

  @Test
  void metrics_are_exported_with_prometheus_names() throws Exception {
    issue("a", FRONTEND);
    deny("forged", FRONTEND, csrFor(FRONTEND));

    String scrape = registry.scrape();

    assertThat(scrape).contains("capstan_ca_requests_total{reason=\"none\",result=\"issued\"} 1.0");
    assertThat(scrape).contains("capstan_ca_requests_total{reason=\"invalid_token\",result=\"denied\"} 1.0");
    assertThat(scrape).contains("capstan_ca_requests_total{reason=\"not_on_node\",result=\"denied\"} 0.0");
    assertThat(scrape).contains("capstan_ca_signing_duration_seconds_count 1");
  }

  // --- helpers ---

  private record Answer(GrpcStatus status, String message, List<String> chain) {}

  private CaClient client(String tokenFile) {
    CaClient c = new CaClient(vertx, CaClient.Settings.of("127.0.0.1", server.port(), dir.resolve(tokenFile),
        config.serverIdentity()), new TrustBundle(List.of(ca.root())), TD, Clock.systemUTC());
    clients.add(c);
    return c;
  }

  private CertifiedKey issue(String tokenFile, SpiffeId id) throws Exception {
    KeyPair key = TestCsrs.p256();
    return client(tokenFile).sign(id, key, Csrs.create(id, key)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private CaException deny(String tokenFile, SpiffeId asked, String csrPem) {
    return caught(client(tokenFile).sign(asked, TestCsrs.p256(), csrPem).toCompletableFuture());
  }

  private static CaException caught(CompletableFuture<CertifiedKey> future) {
    Throwable t = catchThrowable(() -> future.get(10, TimeUnit.SECONDS));
    assertThat(t).as("the request must fail").isNotNull();
    assertThat(t.getCause()).isInstanceOf(CaException.class);
    return (CaException) t.getCause();
  }

  private void assertDenied(CaException e, GrpcStatus status, String reason) {
    assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
    assertThat(e.getMessage()).startsWith(reason + ": ");
    assertThat(deniedCount(reason)).isEqualTo(1);
    assertThat(issuedCount()).as("nothing issued").isZero();
  }

  private static String csrFor(SpiffeId id) {
    return Csrs.create(id, TestCsrs.p256());
  }

  private double issuedCount() {
    return registry.get("capstan_ca_requests").tags("result", "issued").counter().count();
  }

  private double deniedCount(String reason) {
    return registry.get("capstan_ca_requests").tags("result", "denied", "reason", reason).counter().count();
  }

  private double totalRequests() {
    return registry.get("capstan_ca_requests").counters().stream().mapToDouble(c -> c.count()).sum();
  }

  private Answer call(String token, CertificateRequest request) throws Exception {
    GrpcClient raw = GrpcClient.client(vertx, rawHttpOptions());
    try {
      var call = await(raw.request(SocketAddress.inetSocketAddress(server.port(), "localhost"), CaProtocol.CLIENT_METHOD));
      call.headers().set(CaProtocol.AUTHORIZATION, CaProtocol.bearer(token));
      var response = await(call.send(request));
      CertificateResponse body = await(response.last().recover(e -> Future.succeededFuture(null)));
      return new Answer(response.status(), response.statusMessage(), body == null ? List.of() : body.certChainPem());
    } finally {
      await(raw.close());
    }
  }

  private HttpClientOptions rawHttpOptions() {
    return new HttpClientOptions()
        .setSsl(true)
        .setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2)
        .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(ca.rootPem())));
  }

  /** The leaf the server presents to a new TLS connection. */
  private X509Certificate presented() throws Exception {
    X509Certificate[][] seen = new X509Certificate[1][];
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    tls.init(null, new TrustManager[] {new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        seen[0] = chain;
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", server.port())) {
      socket.startHandshake();
    }
    return seen[0][0];
  }

  private static Duration lifetime(X509Certificate cert) {
    return Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant());
  }

  private static String truncate(String pem) {
    String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + body.substring(0, body.length() / 2) + "\n-----END CERTIFICATE REQUEST-----\n";
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}

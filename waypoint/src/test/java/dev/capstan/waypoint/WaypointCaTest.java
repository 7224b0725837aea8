package dev.capstan.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.ca.BootstrapTokens;
import dev.capstan.controller.ca.CaConfig;
import dev.capstan.controller.ca.CaServer;
import dev.capstan.controller.ca.SigningCa;
import dev.capstan.controller.ca.WaypointAccounts;
import dev.capstan.core.ca.Scheduler;
import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Transport;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.core.tls.TrustBundle;
import dev.capstan.waypoint.config.WaypointConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Vertx;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A waypoint that gets its certificate from a real CA: the controller's {@link CaServer} on port
 * 0 with real TLS, clusterless (a {@code waypoint:shop/waypoint} bootstrap token; the Waypoint
 * {@code shop/waypoint} runs as service account {@code waypoint}). A real HBONE client verifies
 * the waypoint's SPIFFE ID. The certificate manager's timers are driven by the test
 * ({@link StepScheduler}): a renewal happens when the test fires it, not after a wait.
 */
class WaypointCaTest {

  private static final String TD = "cluster.local";
  private static final SpiffeId OWN = SpiffeId.of(TD, "shop", "waypoint");
  private static final SpiffeId FRONTEND = SpiffeId.of(TD, "shop", "frontend");
  private static final String TOKEN = "waypoint-token-0123456789abcdef";
  private static final String SERVICE = "10.96.0.9:9080";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;
  private Vertx vertx;
  private SigningCa ca;
  private CaServer server;
  private Waypoint waypoint;
  private StepScheduler scheduler;
  private EventLoopGroup group;
  private final Transport transport = Transport.nio();
  private final List<HboneConnection> connections = new ArrayList<>();

  @BeforeEach
  void startCa() throws Exception {
    vertx = Vertx.vertx();
    ca = SigningCa.selfSigned(TD, Clock.systemUTC(), Duration.ofDays(10));
    WaypointAccounts waypoints = new WaypointAccounts() {
      @Override
      public Optional<String> serviceAccount(String namespace, String name) {
        return namespace.equals("shop") && name.equals("waypoint") ? Optional.of("waypoint") : Optional.empty();
      }

      @Override
      public boolean anyRunsAs(String namespace, String serviceAccount) {
        return namespace.equals("shop") && serviceAccount.equals("waypoint");
      }
    };
    BootstrapTokens tokens = new BootstrapTokens(
        Map.of("waypoint:shop/waypoint", TOKEN, "waypoint:shop/ghost", "ghost-token-0123456789abcdef"), waypoints, TD);
    CaConfig config = CaConfig.of(TD, "capstan-system").withListen("127.0.0.1", 0)
        .withLeafValidity(Duration.ofHours(1), Duration.ofHours(1));
    server = new CaServer(vertx, config, ca, tokens, (node, ns, sa) -> false,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), Clock.systemUTC())
        .start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Files.writeString(dir.resolve("root-cert.pem"), ca.rootPem());
    Files.writeString(dir.resolve("mesh.yaml"), """
        version: v1
        services:
          - {namespace: shop, name: reviews, vips: [10.96.0.9], ports: [{name: http, port: 9080}]}
        """);
    group = transport.newGroup(1, "test-hbone-client");
    scheduler = new StepScheduler();
  }

  @AfterEach
  void stop() throws Exception {
    connections.forEach(HboneConnection::close);
    if (waypoint != null) {
      waypoint.close();
    }
    scheduler.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void a_waypoint_serves_hbone_with_the_cas_certificate_and_renews_it_without_dropping_a_connection() throws Exception {
    waypoint = start(TOKEN);
    assertThat(waypoint.ready()).as("no certificate before the manager has run").isFalse();
    assertThat(readiness()).isEqualTo(503);
    assertThat(connectFails()).as("HBONE refused without a certificate").isTrue();

    scheduler.open();
    await(waypoint::ready, "the first certificate");

    X509Certificate first = waypoint.certificate().orElseThrow().leaf();
    assertThat(SpiffeId.fromCertificate(first)).isEqualTo(OWN);
    assertThat(first.getIssuerX500Principal()).isEqualTo(ca.root().getSubjectX500Principal());
    assertThat(readiness()).isEqualTo(200);
    HboneConnection before = connect();
    assertThat(before.peer()).as("the HBONE client verified the waypoint's SPIFFE ID").isEqualTo(OWN);
    assertThat(servedSerial(before)).isEqualTo(first.getSerialNumber());
    Http2StreamChannel tunnel = await(before.open(SERVICE, Map.of()));

    assertThat(scheduler.fireEarliest()).as("the renewal, at half-life of the 1 h leaf")
        .hasValueSatisfying(delay -> assertThat(delay).isBetween(Duration.ofMinutes(25), Duration.ofMinutes(35)));
    await(() -> !waypoint.certificate().orElseThrow().leaf().getSerialNumber().equals(first.getSerialNumber()),
        "the renewed certificate");

    X509Certificate second = waypoint.certificate().orElseThrow().leaf();
    assertThat(SpiffeId.fromCertificate(second)).isEqualTo(OWN);
    assertThat(second.getPublicKey()).as("a new key per request").isNotEqualTo(first.getPublicKey());
    HboneConnection after = connect();
    assertThat(servedSerial(after)).as("new connections get the new certificate").isEqualTo(second.getSerialNumber());
    assertThat(before.channel().isActive()).as("the connection from before the renewal is not dropped").isTrue();
    assertThat(tunnel.isActive()).as("nor its open tunnel").isTrue();
    Http2StreamChannel another = await(before.open(SERVICE, Map.of()));
    assertThat(another.isActive()).as("and it still opens tunnels").isTrue();
    assertThat(waypoint.ready()).isTrue();
  }

  @Test
  void a_waypoint_the_ca_refuses_stays_unready_and_retries() throws Exception {
    waypoint = start("ghost-token-0123456789abcdef");

    scheduler.open();
    await(() -> scheduler.pendingTimers() > 0, "the retry after the refusal");

    assertThat(waypoint.ready()).isFalse();
    assertThat(waypoint.certificate()).isEmpty();
    assertThat(readiness()).isEqualTo(503);
    assertThat(connectFails()).isTrue();
  }

  private Waypoint start(String token) throws Exception {
    Files.writeString(dir.resolve("token"), token + "\n");
    Path config = dir.resolve("waypoint.yaml");
    Files.writeString(config, """
        namespace: shop
        serviceAccount: waypoint
        listen: 127.0.0.1:0
        ca: {address: "127.0.0.1:%d", root: root-cert.pem, token: token}
        mesh: mesh.yaml
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        """.formatted(server.port()));
    return Waypoint.start(WaypointConfig.load(config), scheduler);
  }

  /** A frontend's client certificate from the same root, as a node agent would present. */
  private SslContext clientTls() throws Exception {
    CertifiedKey key = new Issuer(ca.key(), ca.root()).issue(FRONTEND, Instant.now(), Duration.ofHours(1));
    return new MeshTls(new SpiffeTrustManager(TD, new TrustBundle(List.of(ca.root())), Clock.systemUTC()), TlsEngine.AUTO)
        .client(key);
  }

  private HboneConnection connect() throws Exception {
    HboneConnection c = await(HboneConnection.connect(new Bootstrap().group(group).channel(transport.socketChannel()),
        waypoint.address(), clientTls(), OWN, HboneSettings.defaults()));
    connections.add(c);
    return c;
  }

  private boolean connectFails() throws Exception {
    try {
      connect();
      return false;
    } catch (ExecutionException e) {
      return true;
    }
  }

  private static BigInteger servedSerial(HboneConnection c) throws Exception {
    SslHandler ssl = c.channel().pipeline().get(SslHandler.class);
    return ((X509Certificate) ssl.engine().getSession().getPeerCertificates()[0]).getSerialNumber();
  }

  private int readiness() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + waypoint.adminPorts().get(2) + "/healthz/ready")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static <T> T await(io.netty.util.concurrent.Future<T> f) throws Exception {
    if (!f.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("timed out");
    }
    if (!f.isSuccess()) {
      throw new ExecutionException(f.cause());
    }
    return f.getNow();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /**
   * The certificate manager's scheduler, driven by the test: immediate tasks run on one real
   * thread once {@link #open} is called (until then they wait: the waypoint starts with no
   * certificate); timers (renewal, expiry, retries) run only when the test fires them.
   */
  private static final class StepScheduler implements Scheduler, AutoCloseable {
    private record Timer(Duration delay, Runnable task, boolean[] cancelled) {}

    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-certificates"));
    private final List<Runnable> held = new ArrayList<>();
    private final List<Timer> timers = new ArrayList<>();
    private boolean open;

    @Override
    public synchronized void execute(Runnable task) {
      if (open) {
        thread.execute(task);
      } else {
        held.add(task);
      }
    }

    @Override
    public synchronized Cancellable schedule(Duration delay, Runnable task) {
      boolean[] cancelled = {false};
      timers.add(new Timer(delay, task, cancelled));
      return () -> {
        synchronized (this) {
          cancelled[0] = true;
        }
      };
    }

    synchronized void open() {
      open = true;
      held.forEach(thread::execute);
      held.clear();
    }

    synchronized long pendingTimers() {
      return timers.stream().filter(t -> !t.cancelled()[0]).count();
    }

    /** Runs the pending timer due first, now; its delay, or empty if there is none. */
    synchronized Optional<Duration> fireEarliest() {
      timers.removeIf(t -> t.cancelled()[0]);
      Optional<Timer> first = timers.stream().min((a, b) -> a.delay().compareTo(b.delay()));
      first.ifPresent(t -> {
        timers.remove(t);
        thread.execute(t.task());
      });
      return first.map(Timer::delay);
    }

    @Override
    public void close() {
      thread.shutdownNow();
    }
  }
}

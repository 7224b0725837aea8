package dev.capstan.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import dev.capstan.controller.ca.Authenticator;
import dev.capstan.controller.ca.BootstrapTokens;
import dev.capstan.controller.ca.CaConfig;
import dev.capstan.controller.ca.CaMetrics;
import dev.capstan.controller.ca.CaServer;
import dev.capstan.controller.ca.CertificateAuthority;
import dev.capstan.controller.ca.Placement;
import dev.capstan.controller.ca.SigningCa;
import dev.capstan.core.ca.CaClient;
import dev.capstan.core.ca.CertificateRequest;
import dev.capstan.core.ca.Csrs;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.TrustBundle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leaves signed from prepared P-256 CSRs: directly through {@link CertificateAuthority#issue}
 * on one thread (token check, CSR parse and signature check, placement, signing, PEM), and through
 * the real {@link CaServer} (gRPC over TLS 1.3) called by the node agent's {@link CaClient}.
 */
final class CsrSigning {

  /** One thread: issued per second of wall time and per second of that thread's CPU. */
  record Direct(double perSecond, double perCpuSecond, long issued) {}

  /** Through gRPC: issued per second, CPU seconds per second of the server's threads and of the whole JVM. */
  record Grpc(double perSecond, double serverCores, double processCores, long issued, long failed) {
    double perServerCore() {
      return perSecond / serverCores;
    }
  }

  private static final String TRUST_DOMAIN = "cluster.local";
  private static final String TOKEN = "bench-node-token-0123456789abcdef";

  private final SigningCa ca = SigningCa.selfSigned(TRUST_DOMAIN, Clock.systemUTC(), Duration.ofDays(3650));
  private final Authenticator tokens = new BootstrapTokens(Map.of("worker-00", TOKEN));
  private final Placement anywhere = (node, namespace, serviceAccount) -> true;
  private final List<SpiffeId> ids = new ArrayList<>();
  private final List<KeyPair> keys = new ArrayList<>();
  private final List<String> csrs = new ArrayList<>();

  /** Prepares {@code n} CSRs, each for its own key and identity. */
  CsrSigning(int n) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    for (int i = 0; i < n; i++) {
      SpiffeId id = SpiffeId.of(TRUST_DOMAIN, String.format("team-%02d", i % 50), String.format("app-%04d", i));
      KeyPair key = generator.generateKeyPair();
      ids.add(id);
      keys.add(key);
      csrs.add(Csrs.create(id, key));
    }
  }

  Direct direct(Duration warmUp, Duration measure) throws Exception {
    CertificateAuthority authority = new CertificateAuthority(CaConfig.defaults(), ca, tokens, anywhere,
        new CaMetrics(new SimpleMeterRegistry()), Clock.systemUTC());
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    issueFor(authority, warmUp);
    long cpu = threads.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    long issued = issueFor(authority, measure);
    double wall = (System.nanoTime() - start) / 1e9;
    double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpu) / 1e9;
    return new Direct(issued / wall, issued / cpuSeconds, issued);
  }

  private long issueFor(CertificateAuthority authority, Duration d) throws Exception {
    long deadline = System.nanoTime() + d.toNanos();
    long n = 0;
    Optional<String> token = Optional.of(TOKEN);
    while (System.nanoTime() < deadline) {
      authority.issue(token, CertificateRequest.of(csrs.get((int) (n % csrs.size())), 0), "bench");
      n++;
    }
    return n;
  }

  /**
   * {@code clients} CA clients (one HTTP/2 connection each), {@code inFlight} calls outstanding on
   * each. The server has its own Vert.x with one event loop; its CPU is that event loop's plus the
   * worker threads' (where it authenticates and signs).
   */
  Grpc grpc(int clients, int inFlight, Duration warmUp, Duration measure, Path dir) throws Exception {
    Vertx serverVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Vertx clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    ExecutorService callers = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "bench-ca-caller");
      t.setDaemon(true);
      return t;
    });
    try {
      Set<Long> serverThreads = ConcurrentHashMap.newKeySet();
      serverVertx.runOnContext(v -> serverThreads.add(Thread.currentThread().getId()));
      CaConfig config = CaConfig.defaults().withListen("127.0.0.1", 0);
      CaServer server = new CaServer(serverVertx, config, ca, tokens, anywhere, new SimpleMeterRegistry(), Clock.systemUTC())
          .start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Path tokenFile = Files.writeString(dir.resolve("ca-token"), TOKEN);
      List<CaClient> caClients = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        caClients.add(new CaClient(clientVertx, CaClient.Settings.of("127.0.0.1", server.port(), tokenFile,
            config.serverIdentity()), new TrustBundle(List.of(ca.root())), TRUST_DOMAIN, Clock.systemUTC()));
      }
      AtomicLong issued = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      AtomicLong next = new AtomicLong();
      long warmEnd = System.nanoTime() + warmUp.toNanos();
      long end = warmEnd + measure.toNanos();
      List<CompletableFuture<Void>> loops = new ArrayList<>();
      for (CaClient client : caClients) {
        for (int j = 0; j < inFlight; j++) {
          CompletableFuture<Void> loop = new CompletableFuture<>();
          callers.execute(() -> call(client, next, issued, failed, warmEnd, end, loop, callers));
          loops.add(loop);
        }
      }
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      Thread.sleep(Math.max(0, (warmEnd - System.nanoTime()) / 1_000_000));
      long serverCpu = serverCpu(threads, serverThreads);
      long processCpu = os.getProcessCpuTime();
      long start = System.nanoTime();
      Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
      double wall = (System.nanoTime() - start) / 1e9;
      double serverCores = (serverCpu(threads, serverThreads) - serverCpu) / 1e9 / wall;
      double processCores = (os.getProcessCpuTime() - processCpu) / 1e9 / wall;
      long count = issued.get();
      for (CompletableFuture<Void> loop : loops) {
        loop.get(60, TimeUnit.SECONDS);
      }
      for (CaClient c : caClients) {
        c.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      return new Grpc(count / wall, serverCores, processCores, count, failed.get());
    } finally {
      callers.shutdownNow();
      clientVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      serverVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** One outstanding call: when it completes, counts it (after warm-up) and makes the next, until {@code end}. */
  private void call(CaClient client, AtomicLong next, AtomicLong issued, AtomicLong failed, long warmEnd, long end,
      CompletableFuture<Void> loop, ExecutorService callers) {
    if (System.nanoTime() >= end) {
      loop.complete(null);
      return;
    }
    int i = (int) (next.getAndIncrement() % csrs.size());
    client.sign(ids.get(i), keys.get(i), csrs.get(i)).whenCompleteAsync((key, error) -> {
      long now = System.nanoTime();
      if (now > warmEnd && now <= end) {
        (error == null ? issued : failed).incrementAndGet();
      }
      call(client, next, issued, failed, warmEnd, end, loop, callers);
    }, callers);
  }

  /** CPU time of the server's event loop and of every Vert.x worker thread (only the server uses workers). */
  private static long serverCpu(ThreadMXBean threads, Set<Long> eventLoop) {
    long sum = 0;
    for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && (eventLoop.contains(info.getThreadId()) || info.getThreadName().startsWith("vert.x-worker-thread"))) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        if (t > 0) {
          sum += t;
        }
      }
    }
    return sum;
  }
}

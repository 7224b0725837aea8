package dev.capstan.nodeagent.quota;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.io.SocketSplice;
import dev.capstan.core.io.Transport;
import dev.capstan.core.testing.SpliceProxy;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Quotas on real sockets: a proxy of {@link SocketSplice}s on two event loops charging a small
 * {@link TenantBudget} (4 MiB, 1 MiB give-back room: more than the noisy tenant's eight
 * connections can overshoot by one read each), one listener per tenant. The noisy tenant pushes bulk streams into a sink
 * that reads slowly; the quiet tenant runs request/response through the same proxy.
 */
class QuotaSpliceTest {

  private static final long BUDGET = 4 << 20;
  private static final int READ_MAX = 64 * 1024;
  /** Bytes per bulk stream; the sink answers once it has them all (no half-close: see sendAndVerify). */
  private static final int SIZE = 3 << 20;

  private final Transport transport = Transport.best();
  private final EventLoopGroup group = transport.newGroup(2, "quota-test");
  private final TenantBudget budget = new TenantBudget(new TenantBudget.Settings(BUDGET, BUDGET / 4, 1 << 20), System::nanoTime);
  private final List<Channel> listeners = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    listeners.forEach(c -> c.close().syncUninterruptibly());
    threads.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** A listener whose connections are spliced to {@code upstream} and charged to {@code tenant}. */
  private InetSocketAddress proxy(String tenant, InetSocketAddress upstream) {
    Channel listener = SpliceProxy.listen(group, transport, upstream, listen -> listen,
        dial -> dial
            // Small kernel buffers towards the sink: what it does not take stays in the proxy.
            .option(ChannelOption.SO_SNDBUF, 32 * 1024)
            // Socket watermarks above the quota's connection window: the quota is what binds here.
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new io.netty.channel.WriteBufferWaterMark(2 << 20, 4 << 20)),
        () -> budget.open(budget.tenant(tenant)), r -> { });
    listeners.add(listener);
    return (InetSocketAddress) listener.localAddress();
  }

  private final java.util.concurrent.CountDownLatch sinksMayRead = new java.util.concurrent.CountDownLatch(1);

  /**
   * A sink that reads nothing until {@link #sinksMayRead}, then reads slowly, answers the SHA-256 of
   * what it read and closes.
   */
  private InetSocketAddress slowChecksumSink() throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReceiveBufferSize(16 * 1024);
    server.bind(new InetSocketAddress("127.0.0.1", 0), 50);
    threads.submit(() -> {
      while (!server.isClosed()) {
        Socket s = server.accept();
        threads.submit(() -> {
          try (s) {
            sinksMayRead.await();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16 * 1024];
            for (int n, total = 0; total < SIZE && (n = in.read(buf, 0, Math.min(buf.length, SIZE - total))) >= 0; total += n) {
              sha.update(buf, 0, n);
              Thread.sleep(2); // ~8 MB/s per connection: the proxy holds what the sink has not taken
            }
            s.getOutputStream().write(HexFormat.of().formatHex(sha.digest()).getBytes());
          }
          return null;
        });
      }
      return null;
    });
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  private InetSocketAddress echo() throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    threads.submit(() -> {
      while (!server.isClosed()) {
        Socket s = server.accept();
        threads.submit(() -> {
          try (s) {
            s.getInputStream().transferTo(s.getOutputStream());
          }
          return null;
        });
      }
      return null;
    });
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  @Test
  void a_flooding_tenant_is_throttled_losing_nothing_while_another_tenant_keeps_flowing_within_the_budget() throws Exception {
    InetSocketAddress noisyProxy = proxy("noisy", slowChecksumSink());
    InetSocketAddress quietProxy = proxy("quiet", echo());
    int streams = 8;
    int size = SIZE;
    List<CompletableFuture<Boolean>> bulk = new ArrayList<>();

    try (Socket quiet = new Socket()) {
      // The quiet tenant is connected (active) but idle while the noisy one starts.
      quiet.connect(quietProxy, 5000);
      quiet.setSoTimeout(10_000);
      OutputStream out = quiet.getOutputStream();
      DataInputStream in = new DataInputStream(quiet.getInputStream());
      byte[] request = new byte[1024];
      byte[] answer = new byte[1024];

      List<CompletableFuture<Boolean>> started = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        int seed = i;
        started.add(CompletableFuture.supplyAsync(() -> sendAndVerify(noisyProxy, size, seed), threads));
      }
      bulk.addAll(started);
      // The sinks take nothing yet: the noisy tenant's bytes pile up in the proxy until it is paused.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!budget.tenant("noisy").paused() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(budget.tenant("noisy").paused()).as("the noisy tenant is paused").isTrue();
      assertThat(budget.tenant("noisy").borrowed()).as("after borrowing the quiet tenant's idle share").isPositive();

      // While it is: request/response for the quiet tenant through the same proxy.
      for (int i = 0; i < 200; i++) {
        new Random(i).nextBytes(request);
        out.write(request);
        try {
          in.readFully(answer);
        } catch (java.net.SocketTimeoutException e) {
          throw new AssertionError("quiet request " + i + " timed out; held " + budget.held() + ", " + budget.tenants(), e);
        }
        assertThat(answer).isEqualTo(request);
      }
    }
    assertThat(budget.tenant("noisy").paused()).as("still paused: its sinks take nothing").isTrue();
    sinksMayRead.countDown();

    for (CompletableFuture<Boolean> f : bulk) {
      assertThat(f.get(120, TimeUnit.SECONDS)).as("a bulk stream's checksum").isTrue();
    }
    assertThat(budget.tenant("quiet").pauses()).as("the quiet tenant never was").isZero();
    // Budget plus one read per connection (both directions) that was readable when its tenant paused.
    assertThat(budget.peak()).isLessThanOrEqualTo(BUDGET + (long) (streams + 1) * 2 * READ_MAX);
    assertThat(budget.held()).isZero();
  }

  /** Sends {@code size} random bytes and compares the sink's checksum with its own. */
  private boolean sendAndVerify(InetSocketAddress proxy, int size, int seed) {
    try (Socket s = new Socket()) {
      s.connect(proxy, 5000);
      s.setSoTimeout(120_000);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      Random random = new Random(seed);
      byte[] chunk = new byte[32 * 1024];
      OutputStream out = s.getOutputStream();
      for (int sent = 0; sent < size; sent += chunk.length) {
        random.nextBytes(chunk);
        sha.update(chunk);
        out.write(chunk);
      }
      // No half-close: epoll reads a half-closed socket to its end whatever the backpressure (see
      // docs/flow-control.md), which would hide the quota at work. The sink answers after SIZE bytes.
      String theirs = new String(s.getInputStream().readAllBytes());
      return theirs.equals(HexFormat.of().formatHex(sha.digest()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

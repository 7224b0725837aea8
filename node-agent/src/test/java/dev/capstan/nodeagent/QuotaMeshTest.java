package dev.capstan.nodeagent;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_A;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.sample;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.nodeagent.testing.TwoNodeMesh;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The quota on the HBONE path, through two real agents with a tiny budget (64 KiB, 16 KiB give-back
 * room, 16 KiB per connection, 64 KiB HBONE stream windows): concurrent echo streams are throttled
 * and every byte comes back intact and in order.
 */
class QuotaMeshTest {

  private static final long BUDGET = 64 * 1024;
  private static final int STREAM_WINDOW = 65_536;
  private TwoNodeMesh mesh;
  private final ExecutorService threads = Executors.newFixedThreadPool(8);

  @BeforeEach
  void start() throws Exception {
    mesh = new TwoNodeMesh("", 100,
        "quota: {budget: 64KiB, giveBack: 16KiB, connectionWindow: 16KiB}\nhbone: {streamWindow: " + STREAM_WINDOW + "}");
  }

  @AfterEach
  void stop() throws Exception {
    threads.shutdownNow();
    mesh.close();
  }

  @Test
  void concurrent_streams_through_a_tiny_budget_lose_nothing_and_are_throttled_within_it() throws Exception {
    List<CompletableFuture<Boolean>> streams = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int seed = i;
      streams.add(CompletableFuture.supplyAsync(() -> echoChecksum(seed, 2 << 20), threads));
    }
    for (CompletableFuture<Boolean> s : streams) {
      assertThat(s.get(120, TimeUnit.SECONDS)).as("a stream's bytes came back intact").isTrue();
    }
    String a = mesh.metrics(mesh.a);
    String b = mesh.metrics(mesh.b);
    assertThat(sample(a, "capstan_tenant_throttles_total", "tenant=\"shop\"")
        + sample(b, "capstan_tenant_throttles_total", "tenant=\"shop\"")).as("throttled at an agent; peaks %s and %s", sample(a, "capstan_buffer_peak_bytes"), sample(b, "capstan_buffer_peak_bytes"))
        .isPositive();
    // The budget plus one read (64 KiB) per connection side that was readable when its tenant
    // paused, plus the DATA waiting in each HBONE stream (counted, never refused: at most its window).
    double bound = BUDGET + 8 * 2 * 64 * 1024.0 + 8 * STREAM_WINDOW;
    assertThat(sample(a, "capstan_buffer_peak_bytes")).isLessThanOrEqualTo(bound);
    assertThat(sample(b, "capstan_buffer_peak_bytes")).isLessThanOrEqualTo(bound);
  }

  /** Sends {@code size} random bytes without half-closing, reads the echo, compares checksums. */
  private boolean echoChecksum(int seed, int size) {
    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      s.setSoTimeout(60_000);
      MessageDigest sent = MessageDigest.getInstance("SHA-256");
      MessageDigest back = MessageDigest.getInstance("SHA-256");
      CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
        try {
          DataInputStream in = new DataInputStream(s.getInputStream());
          byte[] buf = new byte[16 * 1024];
          for (int got = 0; got < size; ) {
            int n = in.read(buf, 0, Math.min(buf.length, size - got));
            if (n < 0) {
              throw new java.io.EOFException("echo ended after " + got + " bytes");
            }
            back.update(buf, 0, n);
            got += n;
          }
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      OutputStream out = s.getOutputStream();
      Random random = new Random(seed);
      byte[] chunk = new byte[32 * 1024];
      for (int off = 0; off < size; off += chunk.length) {
        random.nextBytes(chunk);
        sent.update(chunk);
        out.write(chunk);
      }
      reader.get(60, TimeUnit.SECONDS);
      return MessageDigest.isEqual(sent.digest(), back.digest());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

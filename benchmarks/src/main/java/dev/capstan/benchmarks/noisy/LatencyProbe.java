package dev.capstan.benchmarks.noisy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The quiet tenant: a few persistent connections sending fixed-size requests to an echo server at a
 * fixed total rate, on an open-loop schedule.
 *
 * <p>Request {@code i} of connection {@code c} is due at {@code start + (i × connections + c) / rate};
 * its latency is counted from when it was due, not from when it was sent, so a stall also charges
 * the requests that queued behind it (coordinated omission corrected). A failed request (error,
 * 5 s timeout) counts as an error; the connection is then opened again and its schedule goes on.
 * Requests due in the first {@code --measure-from} seconds are a warm-up of the same process (its
 * JIT, its connections, the agents' buffers filling): they are reported apart, to
 * {@code --warmup-out}. Prints one JSON line for the measured part; logs every request answered
 * slower than 100 ms to stderr with when it was sent.
 */
public final class LatencyProbe {
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(120);
  /** A request answered slower than this is logged (stderr) with when it was sent: stalls show as runs. */
  private static final long SLOW_NANOS = TimeUnit.MILLISECONDS.toNanos(Integer.getInteger("probe.slowMs", 100));

  private LatencyProbe() {}

  public static void main(String[] argv) throws Exception {
    Args args = Args.parse("LatencyProbe", argv, Map.of(
        "target", "", "source", "", "connections", "4", "rate", "500", "size", "1024", "seconds", "20",
        "measure-from", "0", "warmup-out", ""));
    InetSocketAddress target = args.address("target");
    InetSocketAddress source = new InetSocketAddress(args.string("source"), 0);
    int connections = args.integer("connections", 1);
    int rate = args.integer("rate", 1);
    int size = args.integer("size", 1);
    long seconds = args.integer("seconds", 1);
    long measureFrom = args.integer("measure-from", 0);
    if (measureFrom >= seconds) {
      throw new IllegalArgumentException("LatencyProbe: --measure-from must be less than --seconds");
    }

    long period = TimeUnit.SECONDS.toNanos(1) * connections / rate; // between two requests of one connection
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    long from = start + TimeUnit.SECONDS.toNanos(measureFrom);
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    Window warmup = new Window(measureFrom);
    Window measured = new Window(seconds - measureFrom);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      long first = start + period * c / connections;
      Thread t = new Thread(() -> run(target, source, size, first, period, from, end, warmup, measured), "probe-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (args.has("warmup-out") && measureFrom > 0) {
      Files.writeString(Path.of(args.string("warmup-out")), warmup.json() + "\n");
    }
    System.out.println(measured.json());
  }

  /** Latencies and errors of the requests due within one part of the run (warm-up or measured). */
  private static final class Window {
    private final Histogram latencies = new Histogram(HIGHEST_NANOS, 3);
    private final AtomicLong errors = new AtomicLong();
    private final long seconds;

    Window(long seconds) {
      this.seconds = seconds;
    }

    synchronized void record(long nanos) {
      latencies.recordValue(Math.min(nanos, HIGHEST_NANOS));
    }

    synchronized String json() {
      Histogram h = latencies;
      return String.format(Locale.ROOT,
          "{\"requests\":%d,\"errors\":%d,\"rate\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
              + "\"p999_ms\":%.3f,\"max_ms\":%.3f}",
          h.getTotalCount(), errors.get(), h.getTotalCount() / (double) seconds,
          ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)),
          ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()));
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static void run(InetSocketAddress target, InetSocketAddress source, int size, long first, long period,
      long from, long end, Window warmup, Window measured) {
    byte[] request = new byte[size];
    byte[] response = new byte[size];
    Socket s = null;
    for (long due = first; due < end; due += period) {
      Window window = due < from ? warmup : measured;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      try {
        if (s == null) {
          s = connect(target, source);
        }
        long sent = System.nanoTime();
        OutputStream out = s.getOutputStream();
        out.write(request);
        out.flush();
        readFully(s.getInputStream(), response);
        long done = System.nanoTime();
        window.record(done - due);
        if (done - sent > SLOW_NANOS) {
          System.err.printf(Locale.ROOT, "slow request: connection %s, sent at +%.3f s (%s), answered in %.1f ms%n",
              Thread.currentThread().getName(), (sent - first) / 1e9,
              java.time.Instant.now().minusNanos(System.nanoTime() - sent), (done - sent) / 1e6);
        }
      } catch (IOException e) {
        window.errors.incrementAndGet();
        closeQuietly(s);
        s = null;
      }
    }
    closeQuietly(s);
  }

  static Socket connect(InetSocketAddress target, InetSocketAddress source) throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setReuseAddress(true);
      s.bind(source);
      s.connect(target, 5_000);
      s.setSoTimeout(5_000);
      return s;
    } catch (IOException e) {
      closeQuietly(s);
      throw e;
    }
  }

  static void readFully(InputStream in, byte[] buf) throws IOException {
    int got = 0;
    while (got < buf.length) {
      int n = in.read(buf, got, buf.length - got);
      if (n < 0) {
        throw new IOException("closed after " + got + " of " + buf.length + " bytes");
      }
      got += n;
    }
  }

  static void closeQuietly(Socket s) {
    if (s == null) {
      return;
    }
    try {
      s.close();
    } catch (IOException e) {
      // closing: nothing left to do
    }
  }
}

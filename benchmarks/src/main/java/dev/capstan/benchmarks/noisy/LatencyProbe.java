package dev.capstan.benchmarks.noisy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
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
 * Prints one JSON line.
 */
public final class LatencyProbe {
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(120);

  private LatencyProbe() {}

  public static void main(String[] argv) throws Exception {
    Args args = Args.parse("LatencyProbe", argv, Map.of(
        "target", "", "source", "", "connections", "4", "rate", "500", "size", "1024", "seconds", "20"));
    InetSocketAddress target = args.address("target");
    InetSocketAddress source = new InetSocketAddress(args.string("source"), 0);
    int connections = args.integer("connections", 1);
    int rate = args.integer("rate", 1);
    int size = args.integer("size", 1);
    long seconds = args.integer("seconds", 1);

    long period = TimeUnit.SECONDS.toNanos(1) * connections / rate; // between two requests of one connection
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    AtomicLong errors = new AtomicLong();
    List<Histogram> histograms = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      Histogram h = new Histogram(HIGHEST_NANOS, 3);
      histograms.add(h);
      long first = start + period * c / connections;
      Thread t = new Thread(() -> run(target, source, size, first, period, end, h, errors), "probe-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    Histogram all = new Histogram(HIGHEST_NANOS, 3);
    histograms.forEach(all::add);
    double secs = seconds;
    System.out.println(String.format(Locale.ROOT,
        "{\"requests\":%d,\"errors\":%d,\"rate\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
            + "\"p999_ms\":%.3f,\"max_ms\":%.3f}",
        all.getTotalCount(), errors.get(), all.getTotalCount() / secs,
        ms(all.getValueAtPercentile(50)), ms(all.getValueAtPercentile(90)), ms(all.getValueAtPercentile(99)),
        ms(all.getValueAtPercentile(99.9)), ms(all.getMaxValue())));
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static void run(InetSocketAddress target, InetSocketAddress source, int size, long first, long period,
      long end, Histogram h, AtomicLong errors) {
    byte[] request = new byte[size];
    byte[] response = new byte[size];
    Socket s = null;
    for (long due = first; due < end; due += period) {
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      try {
        if (s == null) {
          s = connect(target, source);
        }
        OutputStream out = s.getOutputStream();
        out.write(request);
        out.flush();
        readFully(s.getInputStream(), response);
        h.recordValue(Math.min(System.nanoTime() - due, HIGHEST_NANOS));
      } catch (IOException e) {
        errors.incrementAndGet();
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

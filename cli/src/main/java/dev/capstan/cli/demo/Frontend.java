package dev.capstan.cli.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The demo's {@code frontend} pod as a load generator: {@code connections} clients bound to the
 * frontend's pod address, each asking its node agent's explicit proxy for a tunnel ({@code CONNECT
 * reviews.reviews:9080}) — or, {@link #direct}, connecting straight to the service's address as
 * an app whose traffic the kernel redirects does — and sending keep-alive {@code GET}s through it,
 * paced to {@code rate} requests per second in all, for {@code duration}. Latencies (microseconds) go to an HdrHistogram
 * {@link Recorder}; each answer's first words say which version served it.
 *
 * <p>Bounded: the run ends at its deadline; every socket read times out after 10 s; a failed
 * tunnel is retried at most once per 100 ms per client.
 */
public final class Frontend implements Traffic {

  private static final int READ_TIMEOUT_MS = 10_000;
  private static final int MAX_HEAD = 16 * 1024;
  private static final int MAX_BODY = 64 * 1024;

  private final String sourceIp;
  private final InetSocketAddress dial;
  private final boolean tunnel;
  private final String target;
  private final Recorder recorder = new Recorder(3_600_000_000L, 3);
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final Map<String, LongAdder> versions = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  /** Clients from {@code sourceIp} through the explicit {@code proxy}, tunnelled to {@code target} ({@code host:port}). */
  public Frontend(String sourceIp, InetSocketAddress proxy, String target) {
    this(sourceIp, proxy, true, target);
  }

  private Frontend(String sourceIp, InetSocketAddress dial, boolean tunnel, String target) {
    this.sourceIp = sourceIp;
    this.dial = dial;
    this.tunnel = tunnel;
    this.target = target;
  }

  /**
   * Clients that connect to {@code service} from wherever this JVM runs (no bind, no proxy) and
   * send {@code host} as the {@code Host} header: the app of a pod whose traffic is captured.
   */
  public static Frontend direct(InetSocketAddress service, String host) {
    return new Frontend(null, service, false, host);
  }

  /** One second of the run, as the progress line shows it. */
  public record Progress(int second, long requests, long ok, long failed, long intervalRequests,
      double intervalP99Millis, Map<String, Long> versions) {}

  /** What the whole run saw. */
  public record Result(long requests, long ok, long failed, Histogram latencyMicros, Map<String, Long> versions,
      Map<String, Long> failures, Duration elapsed) {}

  /**
   * Opens one tunnel and sends {@code requests} through it, uncounted: the first connections pay
   * for JIT compilation and the TLS handshakes between the agents and the waypoint. Gives up after
   * {@code within}; returns whether every request succeeded.
   */
  @Override
  public boolean warmUp(int requests, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = connect()) {
        for (int i = 0; i < requests; i++) {
          get(s, "/warm-up/" + i);
        }
        return true;
      } catch (IOException | RuntimeException e) {
        try {
          Thread.sleep(200);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return false;
  }

  /** Ends the run early (the demo is stopping): clients finish their request in flight and close. */
  @Override
  public void stop() {
    stopped = true;
  }

  /** Runs the traffic on {@code connections} threads; calls {@code progress} once a second on this thread. */
  @Override
  public Result run(Duration duration, int connections, int rate, Consumer<Progress> progress) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + duration.toNanos();
    long intervalNanos = Math.max(1, 1_000_000_000L * connections / Math.max(1, rate));
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      long offset = intervalNanos * i / connections;
      Thread t = new Thread(() -> client(start + offset, intervalNanos, deadline), "demo-frontend-" + i);
      t.setDaemon(true);
      clients.add(t);
      t.start();
    }
    Histogram total = new Histogram(3_600_000_000L, 3);
    Histogram interval = null;
    int second = 0;
    while (!stopped && System.nanoTime() < deadline) {
      long nextTick = start + (second + 1) * 1_000_000_000L;
      long sleep = Math.min(nextTick, deadline) - System.nanoTime();
      if (sleep > 0) {
        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
      }
      if (System.nanoTime() < nextTick) {
        break; // the deadline came first: the last partial second is in the result
      }
      second++;
      interval = recorder.getIntervalHistogram(interval);
      total.add(interval);
      progress.accept(new Progress(second, ok.get() + failed.get(), ok.get(), failed.get(), interval.getTotalCount(),
          interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(99) / 1000.0, snapshot(versions)));
    }
    for (Thread t : clients) {
      t.join(READ_TIMEOUT_MS + 5_000L);
    }
    interval = recorder.getIntervalHistogram(interval);
    total.add(interval);
    return new Result(ok.get() + failed.get(), ok.get(), failed.get(), total, snapshot(versions), snapshot(failures),
        Duration.ofNanos(System.nanoTime() - start));
  }

  private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** One client: a tunnel, then paced requests through it until the deadline; a broken tunnel is reopened. */
  private void client(long firstAt, long intervalNanos, long deadline) {
    long next = firstAt;
    int n = 0;
    Socket socket = null;
    try {
      while (!stopped && next < deadline && System.nanoTime() < deadline) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        // Behind schedule (a slow answer): no burst to catch up, the next one keeps the pace from now.
        next = Math.max(next + intervalNanos, System.nanoTime());
        long began = System.nanoTime();
        try {
          if (socket == null) {
            socket = connect();
          }
          String version = get(socket, "/reviews/" + (++n));
          recorder.recordValue(Math.max(1, (System.nanoTime() - began) / 1_000));
          ok.incrementAndGet();
          versions.computeIfAbsent(version, k -> new LongAdder()).increment();
        } catch (IOException | RuntimeException e) {
          failed.incrementAndGet();
          failures.computeIfAbsent(reason(e), k -> new LongAdder()).increment();
          close(socket);
          socket = null;
          next = Math.max(next, System.nanoTime() + 100_000_000L);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close(socket);
    }
  }

  private static String reason(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.length() > 80 ? m.substring(0, 80) : m;
  }

  private static void close(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing a broken socket: nothing left to do
      }
    }
  }

  /** A socket from the frontend's pod address, through the explicit proxy, tunnelled to the target (or straight to it). */
  private Socket connect() throws IOException {
    Socket s = new Socket();
    try {
      s.setSoTimeout(READ_TIMEOUT_MS);
      s.setTcpNoDelay(true);
      if (sourceIp != null) {
        s.bind(new InetSocketAddress(InetAddress.getByName(sourceIp), 0));
      }
      s.connect(dial, READ_TIMEOUT_MS);
      if (!tunnel) {
        return s;
      }
      s.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String head = readHead(s.getInputStream());
      int status = status(head);
      if (status != 200) {
        throw new IOException("CONNECT " + target + " answered " + status);
      }
      return s;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** One keep-alive GET; returns the version that answered ("v1", "v2", ...). */
  private String get(Socket s, String path) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(("GET " + path + " HTTP/1.1\r\nHost: " + target + "\r\nUser-Agent: capstan-demo-frontend\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = s.getInputStream();
    String head = readHead(in);
    int length = contentLength(head);
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new IOException("the connection closed in a response body");
    }
    int status = status(head);
    if (status != 200) {
      throw new IOException("HTTP " + status);
    }
    String[] words = new String(body, StandardCharsets.UTF_8).split(" ", 3);
    return words.length >= 2 && words[0].equals("reviews") ? words[1] : "unknown";
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("the connection closed before a response");
      }
      if (head.size() >= MAX_HEAD) {
        throw new IOException("a response head longer than " + MAX_HEAD + " bytes");
      }
      head.write(c);
      matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private static int status(String head) throws IOException {
    String[] parts = head.split(" ", 3);
    try {
      return Integer.parseInt(parts[1].trim());
    } catch (RuntimeException e) {
      throw new IOException("not an HTTP response: " + head.lines().findFirst().orElse(""));
    }
  }

  private static int contentLength(String head) throws IOException {
    for (String line : head.split("\r\n")) {
      if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
        int n = Integer.parseInt(line.substring(15).trim());
        if (n < 0 || n > MAX_BODY) {
          throw new IOException("content-length " + n + " out of bounds");
        }
        return n;
      }
    }
    if (head.regionMatches(true, 0, "HTTP/1.1 204", 0, 12)) {
      return 0;
    }
    throw new IOException("a response without content-length (the demo reads only those)");
  }
}

package dev.capstan.e2e.tools;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Opens {@code --count} short connections to an echo server at a steady {@code --rate} per second,
 * one after another, for at most {@code --max-seconds}; each sends a small payload and expects it
 * back. Prints one line per failure ({@code fail <i>: <reason>}) and a last line
 * {@code ok=<n> failed=<n>} (also when stopped early by SIGTERM) (connections not attempted before the deadline count as failed). Exits
 * 0 only if none failed. Bounded: count at most 100000, at most 600 seconds, 2 s per connection.
 *
 * <pre>java -cp test-classes dev.capstan.e2e.tools.ConnectLoop 10.1.2.10 7000 --count 100 --rate 20 --max-seconds 30</pre>
 */
public final class ConnectLoop {
  private ConnectLoop() {}

  public static void main(String[] argv) throws InterruptedException {
    Args args = new Args(argv);
    InetSocketAddress target = new InetSocketAddress(args.positional(0, "host"), Integer.parseInt(args.positional(1, "port")));
    int count = args.integer("count", 10, 1, 100_000);
    int rate = args.integer("rate", 10, 1, 10_000);
    int maxSeconds = args.integer("max-seconds", 30, 1, 600);
    int timeoutMs = args.integer("timeout-ms", 2000, 1, 60_000);
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(maxSeconds);
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean reported = new java.util.concurrent.atomic.AtomicBoolean();
    // Stopped early (SIGTERM): report what was attempted so far.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (reported.compareAndSet(false, true)) {
        System.out.println("ok=" + ok.get() + " failed=" + failed.get() + " (stopped)");
        System.out.flush();
      }
    }));
    for (int i = 0; i < count; i++) {
      long due = start + i * interval;
      long now = System.nanoTime();
      if (due > now) {
        TimeUnit.NANOSECONDS.sleep(due - now);
      }
      if (System.nanoTime() > deadline) {
        System.out.println("fail " + i + "-" + (count - 1) + ": not attempted, " + maxSeconds + " s deadline reached");
        failed.addAndGet(count - i);
        break;
      }
      String payload = "connect-loop " + i + "\n";
      try {
        String echoed = TcpClient.exchange(target, payload.getBytes(StandardCharsets.UTF_8), timeoutMs);
        if (echoed.equals(payload)) {
          ok.incrementAndGet();
        } else {
          failed.incrementAndGet();
          System.out.println("fail " + i + ": echo differs (" + echoed.length() + " characters back)");
        }
      } catch (IOException e) {
        failed.incrementAndGet();
        System.out.println("fail " + i + ": " + e);
      }
    }
    if (reported.compareAndSet(false, true)) {
      System.out.println("ok=" + ok.get() + " failed=" + failed.get());
    }
    System.exit(failed.get() == 0 ? 0 : 1);
  }
}

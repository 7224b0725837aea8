package dev.capstan.benchmarks.noisy;

import java.io.DataInputStream;
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

/**
 * The noisy tenant: bulk streams that write as fast as they can into a sink that reads slower, plus
 * connection churn, for a bounded time.
 *
 * <p>Bulk: {@code --streams} connections each write 64 KiB chunks until the deadline. What was
 * delivered is what the sink acknowledged (it writes back its running total). At the deadline the
 * streams are reset (SO_LINGER 0), never half-closed: a FIN would let the agent read the socket to
 * its end past its quota (docs/flow-control.md, "Known hole"). Churn: {@code --churn-threads}
 * threads open short connections at {@code --churn-rate} per second in total (64 bytes each way,
 * then close), at most {@code rate × seconds} of them. The figures count only what happens after
 * {@code --measure-from} seconds, so the first seconds (connections opening, buffers filling, cold
 * JITs) can be a warm-up of the same flood. Prints one JSON line.
 */
public final class Flood {
  private static final int CHUNK = 64 * 1024;

  private Flood() {}

  public static void main(String[] argv) throws Exception {
    Args args = Args.parse("Flood", argv, Map.of(
        "target", "", "source", "", "streams", "16", "churn-threads", "4", "churn-rate", "1500", "seconds", "20",
        "measure-from", "0"));
    InetSocketAddress target = args.address("target");
    InetSocketAddress source = new InetSocketAddress(args.string("source"), 0);
    int streams = args.integer("streams", 0);
    int churnThreads = args.integer("churn-threads", 0);
    int churnRate = args.integer("churn-rate", 1);
    int seconds = args.integer("seconds", 1);
    int measureFrom = args.integer("measure-from", 0);
    if (measureFrom >= seconds) {
      throw new IllegalArgumentException("Flood: --measure-from must be less than --seconds");
    }

    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    AtomicLong delivered = new AtomicLong();
    AtomicLong written = new AtomicLong();
    AtomicLong bulkErrors = new AtomicLong();
    AtomicLong churnOk = new AtomicLong();
    AtomicLong churnFailed = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    List<Socket> bulk = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      try {
        Socket s = LatencyProbe.connect(target, source);
        s.setSoTimeout(0);
        bulk.add(s);
        threads.add(start("bulk-w" + i, () -> write(s, end, written, bulkErrors)));
        threads.add(start("bulk-a" + i, () -> readAcks(s, end, delivered, bulkErrors)));
      } catch (IOException e) {
        bulkErrors.incrementAndGet();
      }
    }
    for (int i = 0; i < churnThreads; i++) {
      long period = TimeUnit.SECONDS.toNanos(1) * churnThreads / churnRate;
      long first = start + period * i / churnThreads;
      threads.add(start("churn-" + i, () -> churn(target, source, first, period, end, churnOk, churnFailed)));
    }
    long from = start + TimeUnit.SECONDS.toNanos(measureFrom);
    LockSupport.parkNanos(from - System.nanoTime());
    long delivered0 = delivered.get();
    long written0 = written.get();
    long ok0 = churnOk.get();
    long failed0 = churnFailed.get();
    long bulkErrors0 = bulkErrors.get();
    long measured = System.nanoTime();
    LockSupport.parkNanos(end - System.nanoTime());
    for (Socket s : bulk) {
      reset(s);
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
    }
    double secs = (end - measured) / 1e9;
    long ok = churnOk.get() - ok0;
    System.out.println(String.format(Locale.ROOT,
        "{\"streams\":%d,\"delivered_mb_s\":%.2f,\"written_mb_s\":%.2f,\"bulk_errors\":%d,"
            + "\"churn_ok\":%d,\"churn_failed\":%d,\"churn_per_s\":%.1f,\"seconds\":%.2f}",
        bulk.size(), (delivered.get() - delivered0) / secs / 1e6, (written.get() - written0) / secs / 1e6,
        bulkErrors.get() - bulkErrors0, ok, churnFailed.get() - failed0, ok / secs, secs));
    System.exit(0); // threads stuck in a write to a reset socket must not keep the JVM alive
  }

  private static Thread start(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void write(Socket s, long end, AtomicLong written, AtomicLong errors) {
    byte[] chunk = new byte[CHUNK];
    chunk[0] = 'B'; // the first byte of the stream tells the sink this is bulk
    try {
      OutputStream out = s.getOutputStream();
      while (System.nanoTime() < end) {
        out.write(chunk);
        written.addAndGet(CHUNK);
        chunk[0] = 0;
      }
    } catch (IOException e) {
      if (System.nanoTime() < end) {
        errors.incrementAndGet();
      }
    }
  }

  private static void readAcks(Socket s, long end, AtomicLong delivered, AtomicLong errors) {
    long last = 0;
    try {
      DataInputStream in = new DataInputStream(s.getInputStream());
      while (System.nanoTime() < end) {
        long total = in.readLong();
        if (System.nanoTime() < end) {
          delivered.addAndGet(total - last);
        }
        last = total;
      }
    } catch (IOException e) {
      if (System.nanoTime() < end) {
        errors.incrementAndGet();
      }
    }
  }

  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (IOException e) {
      // already closed
    }
    LatencyProbe.closeQuietly(s);
  }

  private static void churn(InetSocketAddress target, InetSocketAddress source, long first, long period, long end,
      AtomicLong ok, AtomicLong failed) {
    byte[] request = new byte[NoisyServers.CHURN_BYTES];
    request[0] = 'C';
    byte[] response = new byte[NoisyServers.CHURN_BYTES];
    for (long due = first; due < end; due += period) {
      long now = System.nanoTime();
      if (due - now > 0) {
        LockSupport.parkNanos(due - now);
      } else if (now - due > period * 10) {
        due = now; // far behind: do not burst to catch up
      }
      Socket s = null;
      try {
        s = LatencyProbe.connect(target, source);
        OutputStream out = s.getOutputStream();
        out.write(request);
        out.flush();
        InputStream in = s.getInputStream();
        LatencyProbe.readFully(in, response);
        ok.incrementAndGet();
      } catch (IOException e) {
        failed.incrementAndGet();
      } finally {
        LatencyProbe.closeQuietly(s);
      }
    }
  }
}

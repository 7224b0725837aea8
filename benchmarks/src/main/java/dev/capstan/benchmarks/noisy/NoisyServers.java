package dev.capstan.benchmarks.noisy;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The workloads behind the agents: an echo server for the quiet tenant and a slow sink for the noisy
 * one, in one process or (one of {@code --echo}, {@code --sink} given) each in its own.
 *
 * <p>Echo: writes back whatever it reads. Sink: the first byte of a connection picks its kind.
 * {@code 'B'} (bulk) is read at most {@code --sink-rate} bytes per second per connection (a stall
 * earns at most 100 ms of catching up, so the rate holds over any window), and every
 * {@link #ACK_EVERY} bytes the sink writes back the 8-byte total it has read, so the sender knows
 * what was delivered. {@code 'C'} (churn) is 64 bytes in, 64 bytes back, then read to the end.
 * The process exits after {@code --max-seconds}.
 */
public final class NoisyServers {
  static final int ACK_EVERY = 64 * 1024;
  static final int CHURN_BYTES = 64;
  private static final long MAX_CREDIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private NoisyServers() {}

  public static void main(String[] argv) throws Exception {
    Args args = Args.parse("NoisyServers", argv, Map.of(
        "echo", "", "sink", "", "sink-rate", "2MiB", "sink-rcvbuf", "64KiB", "max-seconds", "3600"));
    long rate = args.bytes("sink-rate");
    int rcvbuf = (int) args.bytes("sink-rcvbuf");
    if (!args.has("echo") && !args.has("sink")) {
      throw new IllegalArgumentException("NoisyServers: give --echo, --sink or both");
    }
    StringBuilder listening = new StringBuilder("listening");
    if (args.has("echo")) {
      ServerSocket echo = listen(args.address("echo"), 0);
      start("echo-accept", () -> accept(echo, NoisyServers::echo));
      listening.append(" echo=").append(echo.getLocalSocketAddress());
    }
    if (args.has("sink")) {
      ServerSocket sink = listen(args.address("sink"), rcvbuf);
      start("sink-accept", () -> accept(sink, s -> sink(s, rate)));
      listening.append(" sink=").append(sink.getLocalSocketAddress());
    }
    System.out.println(listening);
    Thread.sleep(TimeUnit.SECONDS.toMillis(args.integer("max-seconds", 1)));
    System.out.println("max-seconds reached, exiting");
    System.exit(0);
  }

  private static ServerSocket listen(InetSocketAddress address, int rcvbuf) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    if (rcvbuf > 0) {
      s.setReceiveBufferSize(rcvbuf); // inherited by accepted sockets: the backlog builds up in the agents
    }
    s.bind(address, 1024);
    return s;
  }

  interface Handler {
    void handle(Socket s) throws IOException;
  }

  private static void accept(ServerSocket server, Handler handler) {
    while (true) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        System.err.println("accept failed: " + e);
        return;
      }
      start("conn", () -> {
        try (s) {
          s.setTcpNoDelay(true);
          handler.handle(s);
        } catch (IOException e) {
          // a client's reset at the end of a run: nothing to report
        }
      });
    }
  }

  private static void start(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }

  private static void echo(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    byte[] buf = new byte[16 * 1024];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
    }
  }

  private static void sink(Socket s, long rate) throws IOException {
    InputStream in = s.getInputStream();
    int kind = in.read();
    if (kind == 'C') {
      byte[] buf = new byte[CHURN_BYTES];
      int got = 1;
      buf[0] = 'C';
      while (got < CHURN_BYTES) {
        int n = in.read(buf, got, CHURN_BYTES - got);
        if (n < 0) {
          return;
        }
        got += n;
      }
      s.getOutputStream().write(buf);
      while (in.read(buf) >= 0) {
        // until the client closes
      }
    } else if (kind == 'B') {
      DataOutputStream acks = new DataOutputStream(s.getOutputStream());
      byte[] buf = new byte[16 * 1024];
      long start = System.nanoTime();
      long total = 0;
      long acked = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        total += n;
        if (total - acked >= ACK_EVERY) {
          acks.writeLong(total);
          acks.flush();
          acked = total;
        }
        long due = start + total * 1_000_000_000L / rate; // when this many bytes are allowed
        long wait = due - System.nanoTime();
        if (wait > 0) {
          sleepNanos(wait);
        } else if (wait < -MAX_CREDIT_NANOS) {
          start -= wait + MAX_CREDIT_NANOS; // after a stall, catch up by at most 100 ms of reading
        }
      }
    }
  }

  private static void sleepNanos(long nanos) {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

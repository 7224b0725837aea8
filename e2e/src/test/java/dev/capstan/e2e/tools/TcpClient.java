package dev.capstan.e2e.tools;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Connects, sends a message, half-closes, reads the echo until the server closes, prints it; exits
 * 0 if the echo equals the message, 1 otherwise (the reason on stderr). Bounded: connect and read
 * timeouts ({@code --timeout-ms}, default 5000) and at most 1 MiB read.
 *
 * <pre>java -cp test-classes dev.capstan.e2e.tools.TcpClient 10.1.2.10 7000 hello [--timeout-ms 5000]</pre>
 */
public final class TcpClient {
  private static final int MAX_READ = 1 << 20;

  private TcpClient() {}

  public static void main(String[] argv) {
    Args args = new Args(argv);
    String host = args.positional(0, "host");
    int port = Integer.parseInt(args.positional(1, "port"));
    String message = args.positional(2, "message");
    int timeout = args.integer("timeout-ms", 5000, 1, 120_000);
    try {
      String echoed = exchange(new InetSocketAddress(host, port), message.getBytes(StandardCharsets.UTF_8), timeout);
      System.out.println(echoed);
      if (!echoed.equals(message)) {
        System.err.println("echo differs: sent " + message.length() + " characters, got " + echoed.length());
        System.exit(1);
      }
    } catch (IOException e) {
      System.err.println("failed: " + e);
      System.exit(1);
    }
  }

  /** One connection: connect, send {@code payload}, half-close, read everything until EOF. */
  static String exchange(InetSocketAddress target, byte[] payload, int timeoutMs) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(target, timeoutMs);
      s.setSoTimeout(timeoutMs);
      s.getOutputStream().write(payload);
      s.getOutputStream().flush();
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) >= 0; ) {
        got.write(buf, 0, n);
        if (got.size() > MAX_READ) {
          throw new IOException("more than " + MAX_READ + " bytes back");
        }
      }
      return got.toString(StandardCharsets.UTF_8);
    }
  }
}

package dev.capstan.e2e.tools;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A server for a pod: raw TCP echo on {@code --echo <port>} and a tiny HTTP/1.1 server on
 * {@code --http <port>} answering every request with 200 and a body naming the TCP peer and the
 * local address it saw and the request's path
 * ({@code peer=10.1.1.10:40000 local=10.1.2.10:8080 server=<name> path=/x}),
 * {@code Connection: close}. Prints {@code listening echo=<port> http=<port>} once both listen.
 *
 * <pre>java -cp test-classes dev.capstan.e2e.tools.EchoServer --echo 7000 --http 8080 [--name s]</pre>
 */
public final class EchoServer {
  private static final int MAX_REQUEST_HEAD = 16 * 1024;
  private static final int SOCKET_TIMEOUT_MS = 30_000;

  private EchoServer() {}

  public static void main(String[] argv) throws IOException {
    Args args = new Args(argv);
    int echoPort = args.integer("echo", 0, 0, 65535);
    int httpPort = args.integer("http", 0, 0, 65535);
    String name = args.string("name", "echo");
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r);
      t.setDaemon(true);
      return t;
    });
    ServerSocket echo = listen(echoPort);
    ServerSocket http = listen(httpPort);
    Thread echoAcceptor = acceptor(echo, pool, EchoServer::echo);
    acceptor(http, pool, s -> http(s, name));
    System.out.println("listening echo=" + echo.getLocalPort() + " http=" + http.getLocalPort());
    System.out.flush();
    try {
      echoAcceptor.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  interface Handler {
    void handle(Socket s) throws IOException;
  }

  private static ServerSocket listen(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(port), 128);
    return s;
  }

  private static Thread acceptor(ServerSocket server, ExecutorService pool, Handler handler) {
    Thread t = new Thread(() -> {
      while (true) {
        try {
          Socket s = server.accept();
          pool.execute(() -> {
            try (s) {
              s.setSoTimeout(SOCKET_TIMEOUT_MS);
              handler.handle(s);
            } catch (IOException e) {
              System.out.println("connection from " + s.getRemoteSocketAddress() + ": " + e);
            }
          });
        } catch (IOException e) {
          System.out.println("accept on " + server.getLocalSocketAddress() + " failed: " + e);
          return;
        }
      }
    }, "accept-" + server.getLocalPort());
    t.start();
    return t;
  }

  private static void echo(Socket s) throws IOException {
    System.out.println("echo connection from " + s.getRemoteSocketAddress());
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    byte[] buf = new byte[8192];
    for (int n; (n = in.read(buf)) >= 0; ) {
      out.write(buf, 0, n);
      out.flush();
    }
  }

  private static void http(Socket s, String name) throws IOException {
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int c = in.read();
      if (c < 0 || head.size() >= MAX_REQUEST_HEAD) {
        return;
      }
      head.write(c);
      matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String requestLine = head.toString(StandardCharsets.ISO_8859_1).lines().findFirst().orElse("");
    InetSocketAddress peer = (InetSocketAddress) s.getRemoteSocketAddress();
    InetSocketAddress local = (InetSocketAddress) s.getLocalSocketAddress();
    String[] parts = requestLine.split(" ");
    String path = parts.length >= 2 ? parts[1] : "";
    String body = "peer=" + peer.getAddress().getHostAddress() + ":" + peer.getPort()
        + " local=" + local.getAddress().getHostAddress() + ":" + local.getPort() + " server=" + name + " path=" + path + "\n";
    System.out.println("http " + requestLine + " from " + peer);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    OutputStream out = s.getOutputStream();
    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + bytes.length
        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.write(bytes);
    out.flush();
  }
}

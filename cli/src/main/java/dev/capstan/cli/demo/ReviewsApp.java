package dev.capstan.cli.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One version of the demo's {@code reviews} app, an HTTP server on its pod address: it answers
 * every request with its version, its pod name and the peer it saw (the node agent that delivered
 * the connection), e.g. {@code reviews v2 reviews-v2-1 peer=127.0.0.1:40412}. The body's first two
 * words are what the frontend counts the canary split by.
 */
public final class ReviewsApp implements AutoCloseable {

  static {
    // The JDK server writes a response's head and body apart: with Nagle on, a reused connection
    // waits ~40 ms for a delayed ACK per response (see NOTES.md). Read when its class loads.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final String version;
  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicLong requests = new AtomicLong();

  private ReviewsApp(String version, HttpServer server, ExecutorService executor) {
    this.version = version;
    this.server = server;
    this.executor = executor;
  }

  /** Starts the app of {@code version} on {@code ip:port}. */
  public static ReviewsApp start(String version, String pod, String ip, int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(ip, port), 64);
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "demo-" + pod);
      t.setDaemon(true);
      return t;
    });
    ReviewsApp app = new ReviewsApp(version, server, executor);
    server.createContext("/", exchange -> app.answer(exchange, pod));
    server.setExecutor(executor);
    server.start();
    return app;
  }

  private void answer(HttpExchange exchange, String pod) throws IOException {
    requests.incrementAndGet();
    exchange.getRequestBody().readAllBytes();
    InetSocketAddress peer = exchange.getRemoteAddress();
    byte[] body = ("reviews " + version + " " + pod + " peer=" + peer.getAddress().getHostAddress() + ":" + peer.getPort() + "\n")
        .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.getResponseHeaders().set("X-Reviews-Version", version);
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  public String version() {
    return version;
  }

  /** Requests this app answered. */
  public long requests() {
    return requests.get();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

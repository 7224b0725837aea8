package dev.capstan.core.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Three small HTTP servers: admin ({@code /config_dump}, loopback only), {@code /metrics} for
 * Prometheus and {@code /healthz/ready}. They run on Vert.x's own event loop, never on the data
 * plane's.
 */
public final class AdminServers {

  private static final ObjectMapper JSON = new ObjectMapper()
      .findAndRegisterModules()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private final List<HttpServer> servers;

  private AdminServers(List<HttpServer> servers) {
    this.servers = servers;
  }

  /**
   * Where the three servers listen.
   *
   * @param admin config dump, loopback only
   * @param metrics Prometheus scrape
   * @param ready readiness probe
   * @param reusePort bind with SO_REUSEPORT, so a restarting process binds before the old one
   *     leaves (node agents); otherwise a second process on the same ports fails to start
   */
  public record Addresses(InetSocketAddress admin, InetSocketAddress metrics, InetSocketAddress ready, boolean reusePort) {
    /** Exclusive ports. */
    public Addresses(InetSocketAddress admin, InetSocketAddress metrics, InetSocketAddress ready) {
      this(admin, metrics, ready, false);
    }
  }

  /** Starts the three servers; fails if one cannot bind. */
  public static AdminServers start(
      Vertx vertx, Addresses addresses, Supplier<String> scrapeMetrics, Supplier<Object> configDump, BooleanSupplier ready)
      throws Exception {
    Router admin = Router.router(vertx);
    admin.get("/config_dump").handler(ctx -> {
      try {
        ctx.response().putHeader("content-type", "application/json").end(JSON.writeValueAsString(configDump.get()));
      } catch (JsonProcessingException e) {
        ctx.response().setStatusCode(500).end("cannot render config: " + e.getMessage());
      }
    });
    Router scrape = Router.router(vertx);
    scrape.get("/metrics").handler(ctx ->
        ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(scrapeMetrics.get()));
    Router health = Router.router(vertx);
    health.get("/healthz/ready").handler(ctx -> {
      boolean ok = ready.getAsBoolean();
      ctx.response().setStatusCode(ok ? 200 : 503).end(ok ? "ready\n" : "not ready\n");
    });
    HttpServer a = listen(vertx, admin, addresses.admin(), addresses.reusePort());
    HttpServer m = listen(vertx, scrape, addresses.metrics(), addresses.reusePort());
    HttpServer h = listen(vertx, health, addresses.ready(), addresses.reusePort());
    return new AdminServers(List.of(a, m, h));
  }

  /** Bound addresses: admin, metrics, ready. */
  public List<Integer> ports() {
    return servers.stream().map(HttpServer::actualPort).toList();
  }

  public void close() {
    servers.forEach(HttpServer::close);
  }

  private static HttpServer listen(Vertx vertx, Router router, InetSocketAddress address, boolean reusePort) throws Exception {
    Future<HttpServer> f = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setReusePort(reusePort)).requestHandler(router)
        .listen(address.getPort(), address.getAddress().getHostAddress());
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}

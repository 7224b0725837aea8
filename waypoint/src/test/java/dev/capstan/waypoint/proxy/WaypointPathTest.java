package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneException;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Transport;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.core.model.HttpRoute.Filter;
import dev.capstan.core.model.HttpRoute.HeaderChanges;
import dev.capstan.core.model.HttpRoute.Match;
import dev.capstan.core.model.HttpRoute.ParentRef;
import dev.capstan.core.model.HttpRoute.PathMatch;
import dev.capstan.core.model.HttpRoute.PathRewrite;
import dev.capstan.core.model.HttpRoute.PathType;
import dev.capstan.core.model.HttpRoute.Rule;
import dev.capstan.core.model.HttpRoute.ValueMatch;
import dev.capstan.core.model.HttpRoute.ValueType;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.policy.TrafficPolicyManifest;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.core.testing.SpliceAcceptor;
import dev.capstan.core.testing.TestCa;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.waypoint.state.WaypointView;
import dev.capstan.waypoint.telemetry.RequestTelemetry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A request's whole path through a waypoint, in process over loopback: a source's HBONE stream to
 * the waypoint (mutual TLS, {@code :authority} = service VIP), HTTP/1.1 routing by an HTTPRoute, a
 * new HBONE stream as the waypoint's identity to a destination agent, which splices it to the
 * chosen version of the service.
 */
class WaypointPathTest {

  private static final String VIP = "10.96.0.10";
  private static final String V1_IP = "127.0.0.11";
  private static final String V2_IP = "127.0.0.12";
  private static final String LIMITED_VIP = "10.96.0.13";
  private static final String FAULTY_VIP = "10.96.0.14";
  private static final String RETRYING_VIP = "10.96.0.15";
  private static final String TCP_VIP = "10.96.0.16";
  private static final String TLS_VIP = "10.96.0.17";
  private static final String TCP_DENIED_VIP = "10.96.0.18";

  private final TestCa ca = new TestCa();
  private final CertifiedKey source = ca.leaf("shop", "frontend");
  private final CertifiedKey waypoint = ca.leaf("shop", "waypoint");
  private final CertifiedKey reviews = ca.leaf("shop", "reviews");
  /** What the destination agent saw: peer identity and Forwarded, per CONNECT. */
  private final List<String> destinationSaw = new CopyOnWriteArrayList<>();
  private final AtomicInteger draws = new AtomicInteger();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<RequestTelemetry.Entry> logged = new CopyOnWriteArrayList<>();
  /** What the apps saw of the /flaky and /slow paths: version and path, per request. */
  private final List<String> appSaw = new CopyOnWriteArrayList<>();
  private final java.util.Set<String> flakySeen = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final List<HttpServer> backends = new ArrayList<>();
  private EventLoopGroup group;
  private Transport transport;
  private final List<Channel> listeners = new ArrayList<>();
  private Inbound inbound;
  private InetSocketAddress waypointAddress;
  private MeshTls tls;
  private int appPort;
  private dev.capstan.core.testing.EchoServer echo;

  @BeforeEach
  void setUp() throws Exception {
    transport = Transport.best();
    group = transport.newGroup(2, "waypoint-test");
    tls = ca.tls(TlsEngine.AUTO);
    appPort = freePort();
    backends.add(backend(V1_IP, "v1"));
    backends.add(backend(V2_IP, "v2"));
    int hbonePort = startDestinationAgent();

    Workload v1 = new Workload("uid-v1", "reviews-v1", "shop", "reviews", List.of(V1_IP), "node-b", Map.of("version", "v1"), null);
    Workload v2 = new Workload("uid-v2", "reviews-v2", "shop", "reviews", List.of(V2_IP), "node-b", Map.of("version", "v2"), null);
    List<ServicePort> ports = List.of(new ServicePort("http", 9080, appPort));
    Service all = new Service("shop", "reviews", List.of(VIP), ports,
        List.of(new Endpoint("uid-v1", true), new Endpoint("uid-v2", true)));
    Service onlyV1 = new Service("shop", "reviews-v1", List.of("10.96.0.11"), ports, List.of(new Endpoint("uid-v1", true)));
    Service onlyV2 = new Service("shop", "reviews-v2", List.of("10.96.0.12"), ports, List.of(new Endpoint("uid-v2", true)));
    HttpRoute route = new HttpRoute("shop", "reviews", 1, List.of(new ParentRef("shop/reviews", 9080)), List.of(), List.of(
        // testers with the header always get v2
        new Rule(List.of(new Match(Optional.empty(), List.of(new ValueMatch(ValueType.EXACT, "x-canary", "always")), List.of(), null)),
            List.of(), List.of(new Backend("shop/reviews-v2", 9080, 1)), null),
        // the 90/10 canary, tagged
        new Rule(List.of(new Match(Optional.of(new PathMatch(PathType.PATH_PREFIX, "/reviews")), List.of(), List.of(), null)),
            List.of(new Filter.RequestHeaders(new HeaderChanges(Map.of("x-route", "canary"), Map.of(), List.of()))),
            List.of(new Backend("shop/reviews-v1", 9080, 90), new Backend("shop/reviews-v2", 9080, 10)), null),
        // both versions behind the service itself
        new Rule(List.of(new Match(Optional.of(new PathMatch(PathType.PATH_PREFIX, "/both")), List.of(), List.of(), null)),
            List.of(), List.of(new Backend("shop/reviews", 9080, 1)), null),
        // an old path moved
        new Rule(List.of(new Match(Optional.of(new PathMatch(PathType.EXACT, "/old")), List.of(), List.of(), null)),
            List.of(new Filter.Redirect(null, null, new PathRewrite("/reviews", null), 0, 301)), List.of(), null)));
    // opaque TCP: a port named tcp-*, a port with another name that gets TLS, a port whose policy has L7 rules
    echo = new dev.capstan.core.testing.EchoServer(V1_IP);
    Service tcp = new Service("shop", "tcp-echo", List.of(TCP_VIP), List.of(new ServicePort("tcp-echo", 7000, echo.port())),
        List.of(new Endpoint("uid-v1", true)));
    Service tlsEcho = new Service("shop", "tls-echo", List.of(TLS_VIP), List.of(new ServicePort("web", 7000, echo.port())),
        List.of(new Endpoint("uid-v1", true)));
    Service tcpDenied = new Service("shop", "tcp-denied", List.of(TCP_DENIED_VIP),
        List.of(new ServicePort("tcp-echo", 7000, echo.port())), List.of(new Endpoint("uid-v1", true)));
    // services with TrafficPolicies of their own, both on v1
    Service limited = new Service("shop", "limited", List.of(LIMITED_VIP), ports, List.of(new Endpoint("uid-v1", true)));
    Service faulty = new Service("shop", "faulty", List.of(FAULTY_VIP), ports, List.of(new Endpoint("uid-v1", true)));
    Service retrying = new Service("shop", "retrying", List.of(RETRYING_VIP), ports, List.of(new Endpoint("uid-v2", true)));
    List<TrafficPolicy> policies = List.of(
        TrafficPolicyManifest.parse("""
            apiVersion: capstan.dev/v1alpha1
            kind: TrafficPolicy
            metadata: {name: retries, namespace: shop}
            spec:
              targetRefs: [{kind: Service, name: retrying}]
              retry: {attempts: 1, retryOn: [gateway-error], perTryTimeout: 300ms, backoff: {baseInterval: 1ms}}
            """, "retries.yaml"),
        TrafficPolicyManifest.parse("""
            apiVersion: capstan.dev/v1alpha1
            kind: TrafficPolicy
            metadata: {name: limited, namespace: shop}
            spec:
              targetRefs: [{kind: Service, name: limited}]
              rateLimit: {tokens: 2, tokensPerFill: 1, fillInterval: 1h}
            """, "limited.yaml"),
        TrafficPolicyManifest.parse("""
            apiVersion: capstan.dev/v1alpha1
            kind: TrafficPolicy
            metadata: {name: faulty, namespace: shop}
            spec:
              targetRefs: [{kind: Service, name: faulty}]
              faultInjection: {abort: {percent: 100, httpStatus: 418}}
            """, "faulty.yaml"));
    // the waypoint enforces L7 rules of policies that target its services
    List<AuthorizationPolicy> authorizations = List.of(new AuthorizationPolicy("shop", "no-admin", Map.of(), PolicyAction.DENY,
        List.of(new PolicyRule(List.of(), List.of(), List.of(), List.of("/admin*"), List.of(), Map.of())), List.of("reviews", "tcp-denied")));
    WaypointView view = new WaypointView("v1", List.of(all, onlyV1, onlyV2, limited, faulty, retrying, tcp, tlsEcho, tcpDenied),
        List.of(v1, v2), List.of(route),
        policies, authorizations);

    SslContext client = tls.client(waypoint);
    inbound = new Inbound(
        new Inbound.Settings(TestCa.TRUST_DOMAIN, hbonePort, 1 << 20, Duration.ofSeconds(5), 100, 8192, Duration.ofMillis(300), Duration.ofSeconds(30)),
        () -> view, () -> client, new Bootstrap().channel(transport.socketChannel()), HboneSettings.defaults(),
        new RequestTelemetry(registry, logged::add), bound -> draws.getAndIncrement() % bound);
    SslContext server = tls.server(waypoint);
    Channel l = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> Optional.of(new HboneServer.ServerTls(waypoint.identity(), server)),
            HboneSettings.defaults(), inbound))
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    listeners.add(l);
    waypointAddress = (InetSocketAddress) l.localAddress();
  }

  @AfterEach
  void tearDown() throws Exception {
    inbound.close();
    for (Channel l : listeners) {
      l.close().sync();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    backends.forEach(b -> b.stop(0));
    echo.close();
  }

  // ------------------------------------------------------------------ fixtures

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  /** An app that answers with its version, the path it got and the x-route header it got. */
  private HttpServer backend(String ip, String version) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress(ip, appPort), 16);
    s.createContext("/", exchange -> {
      String p = exchange.getRequestURI().getPath();
      if (p.startsWith("/flaky/")) { // 503 the first time it sees a path, 200 after
        appSaw.add(version + " " + p);
        boolean first = flakySeen.add(p);
        byte[] b = (first ? "not yet" : version).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(first ? 503 : 200, b.length);
        exchange.getResponseBody().write(b);
        exchange.close();
        return;
      }
      if (p.startsWith("/slow/")) { // answers after a second
        appSaw.add(version + " " + p);
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        exchange.sendResponseHeaders(200, -1);
        exchange.close();
        return;
      }
      if (p.startsWith("/upload")) { // counts what it was sent
        long n = exchange.getRequestBody().transferTo(java.io.OutputStream.nullOutputStream());
        byte[] count = Long.toString(n).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, count.length);
        exchange.getResponseBody().write(count);
        exchange.close();
        return;
      }
      if (p.startsWith("/big/")) { // sends as many bytes as asked, chunked
        exchange.sendResponseHeaders(200, 0);
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'x');
        for (long left = Long.parseLong(p.substring("/big/".length())); left > 0; left -= chunk.length) {
          exchange.getResponseBody().write(chunk, 0, (int) Math.min(left, chunk.length));
        }
        exchange.close();
        return;
      }
      byte[] body = version.getBytes(StandardCharsets.UTF_8);
      boolean both = exchange.getRequestURI().getPath().startsWith("/both/fail");
      int status = version.equals("v2") && both ? 500 : 200;
      if (version.equals("v1") && both) {
        try {
          Thread.sleep(100); // v1 is the slower one there: latency alone would keep choosing v2
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      exchange.getResponseHeaders().add("x-path", exchange.getRequestURI().toString());
      String tag = exchange.getRequestHeaders().getFirst("x-route");
      exchange.getResponseHeaders().add("x-route-seen", tag == null ? "none" : tag);
      String trace = exchange.getRequestHeaders().getFirst("traceparent");
      exchange.getResponseHeaders().add("x-traceparent-seen", trace == null ? "none" : trace);
      exchange.sendResponseHeaders(status, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    s.start();
    return s;
  }

  /**
   * A destination node agent on both workload IPs, on one port: records who called, splices to the
   * app. The port is the kernel's choice on the first IP; when the second IP has it in use (a
   * connection of an earlier test), another is tried.
   */
  private int startDestinationAgent() throws Exception {
    SslContext server = tls.server(reviews);
    HboneServer.Acceptor acceptor = new SpliceAcceptor(transport, HboneServer.Request::target,
        request -> destinationSaw.add(request.peer().uri() + " " + request.headers().get(Hbone.FORWARDED)), refusal -> { });
    ServerBootstrap b = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .option(io.netty.channel.ChannelOption.SO_REUSEADDR, true)
        .childHandler(new HboneServer(local -> Optional.of(new HboneServer.ServerTls(reviews.identity(), server)),
            HboneSettings.defaults(), acceptor));
    for (int attempt = 1; ; attempt++) {
      Channel first = b.bind(new InetSocketAddress(V1_IP, 0)).sync().channel();
      int port = ((InetSocketAddress) first.localAddress()).getPort();
      io.netty.channel.ChannelFuture second = b.bind(new InetSocketAddress(V2_IP, port)).await();
      if (second.isSuccess()) {
        listeners.add(first);
        listeners.add(second.channel());
        return port;
      }
      first.close().sync();
      if (attempt == 5) {
        throw new IllegalStateException("no port free on both " + V1_IP + " and " + V2_IP, second.cause());
      }
    }
  }

  /** A source's HBONE stream to the waypoint for {@code authority}, speaking HTTP/1.1. */
  private final class Client implements AutoCloseable {
    final Http2StreamChannel stream;
    final LinkedBlockingQueue<FullHttpResponse> responses = new LinkedBlockingQueue<>();

    Client(String authority) throws Exception {
      Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
      var connecting = HboneConnection.connect(b, waypointAddress, tls.client(source), waypoint.identity(), HboneSettings.defaults());
      HboneConnection connection = await(connecting);
      stream = await(connection.channel().eventLoop().submit(
          () -> connection.open(authority, Map.of(Hbone.FORWARDED.toString(), "for=\"10.0.0.5:40000\""))).get());
      stream.eventLoop().submit(() -> {
        stream.pipeline().addLast(new StreamBytes(), new HttpClientCodec(), new HttpObjectAggregator(64 << 20),
            new SimpleChannelInboundHandler<FullHttpResponse>(false) {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse msg) {
                responses.add(msg);
              }
            });
        stream.config().setAutoRead(true);
      }).get();
    }

    FullHttpResponse get(String uri, Map<String, String> headers) throws Exception {
      return send(HttpMethod.GET, uri, headers, Unpooled.EMPTY_BUFFER);
    }

    FullHttpResponse send(HttpMethod method, String uri, Map<String, String> headers, io.netty.buffer.ByteBuf body)
        throws Exception {
      FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, body);
      request.headers().set(HttpHeaderNames.HOST, "reviews.shop:9080");
      io.netty.handler.codec.http.HttpUtil.setContentLength(request, body.readableBytes());
      headers.forEach(request.headers()::set);
      stream.writeAndFlush(request);
      FullHttpResponse response = responses.poll(30, TimeUnit.SECONDS);
      assertThat(response).as("a response to GET " + uri).isNotNull();
      return response;
    }

    /** Writes bytes as they are, past the client's HTTP encoder, and waits for one response. */
    FullHttpResponse raw(String bytes) throws Exception {
      stream.eventLoop().submit(() -> stream.pipeline().context(HttpClientCodec.class)
          .writeAndFlush(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1))).get();
      FullHttpResponse response = responses.poll(10, TimeUnit.SECONDS);
      assertThat(response).as("a response to the raw request").isNotNull();
      return response;
    }

    void awaitEnd() throws InterruptedException {
      assertThat(stream.closeFuture().await(10, TimeUnit.SECONDS)).as("the waypoint ended the stream").isTrue();
    }

    @Override
    public void close() {
      stream.close();
    }
  }

  private static <T> T await(io.netty.util.concurrent.Future<T> f) throws Exception {
    if (!f.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("timed out");
    }
    if (!f.isSuccess()) {
      throw new ExecutionException(f.cause());
    }
    return f.getNow();
  }

  private static String body(FullHttpResponse r) {
    try {
      return r.content().toString(StandardCharsets.UTF_8);
    } finally {
      r.release();
    }
  }

  // ------------------------------------------------------------------ behaviour

  @Test
  void a_90_10_canary_sends_the_weights_share_to_each_version_on_one_kept_alive_stream() throws Exception {
    Map<String, Integer> seen = new HashMap<>();
    try (Client client = new Client(VIP + ":9080")) {
      for (int i = 0; i < 100; i++) {
        FullHttpResponse r = client.get("/reviews/1", Map.of());
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(r.headers().get("x-route-seen")).isEqualTo("canary");
        seen.merge(body(r), 1, Integer::sum);
      }
    }
    // the draws are 0..99 in turn: the split is exactly the weights
    assertThat(seen).containsEntry("v1", 90).containsEntry("v2", 10);
  }

  @Test
  void a_header_match_always_reaches_v2() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      for (int i = 0; i < 10; i++) {
        FullHttpResponse r = client.get("/anything?x=1", Map.of("x-canary", "always"));
        assertThat(r.headers().get("x-path")).isEqualTo("/anything?x=1");
        assertThat(body(r)).isEqualTo("v2");
      }
    }
  }

  @Test
  void the_destination_agent_sees_the_waypoint_identity_and_the_original_source() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      body(client.get("/reviews/2", Map.of()));
    }
    assertThat(destinationSaw).containsExactly(
        // the app connection carries every request of the client address: no port of its own
        SpiffeId.of(TestCa.TRUST_DOMAIN, "shop", "waypoint").uri() + " for=\"10.0.0.5\"");
  }

  @Test
  void a_path_no_rule_matches_gets_404_from_the_waypoint_and_the_stream_stays_usable() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      FullHttpResponse notFound = client.get("/nothing-here", Map.of());
      assertThat(notFound.status().code()).isEqualTo(404);
      assertThat(notFound.headers().get("x-capstan-waypoint")).isEqualTo("local");
      assertThat(body(notFound)).contains("no route for GET /nothing-here");

      FullHttpResponse next = client.get("/reviews/3", Map.of());
      assertThat(next.status().code()).isEqualTo(200);
      next.release();
    }
    assertThat(destinationSaw).hasSize(1);
  }

  @Test
  void a_redirect_rule_answers_with_the_location_and_never_reaches_a_backend() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      FullHttpResponse r = client.get("/old?page=2", Map.of());
      assertThat(r.status().code()).isEqualTo(301);
      assertThat(r.headers().get(HttpHeaderNames.LOCATION)).isEqualTo("http://reviews.shop:9080/reviews?page=2");
      r.release();
    }
    assertThat(destinationSaw).isEmpty();
  }

  @Test
  void a_connect_to_an_address_that_is_no_service_is_refused_with_400() throws Exception {
    Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
    HboneConnection connection = await(
        HboneConnection.connect(b, waypointAddress, tls.client(source), waypoint.identity(), HboneSettings.defaults()));
    var stream = connection.channel().eventLoop().submit(() -> connection.open("10.96.9.9:80", Map.of())).get();
    assertThat(stream.await(10, TimeUnit.SECONDS)).isTrue();

    assertThat(stream.cause()).isInstanceOf(HboneException.class);
    assertThat(((HboneException) stream.cause()).status()).isEqualTo(400);
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void oversized_headers_get_431_the_stream_ends_and_other_clients_are_unaffected() throws Exception {
    try (Client bad = new Client(VIP + ":9080"); Client good = new Client(VIP + ":9080")) {
      FullHttpResponse r = bad.raw("GET /reviews/1 HTTP/1.1\r\nHost: reviews.shop\r\nx-big: " + "a".repeat(20_000) + "\r\n\r\n");
      assertThat(r.status().code()).isEqualTo(431);
      assertThat(body(r)).contains("request headers too large");
      bad.awaitEnd();

      FullHttpResponse ok = good.get("/reviews/1", Map.of());
      assertThat(ok.status().code()).isEqualTo(200);
      ok.release();
    }
    assertThat(destinationSaw).hasSize(1);
  }

  @Test
  void content_length_with_transfer_encoding_gets_400_and_reaches_no_backend() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      FullHttpResponse r = client.raw("POST /reviews/1 HTTP/1.1\r\nHost: reviews.shop\r\nContent-Length: 4\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
      assertThat(r.status().code()).isEqualTo(400);
      assertThat(body(r)).contains("malformed request");
      client.awaitEnd();
    }
    assertThat(destinationSaw).isEmpty();
  }

  @Test
  void a_request_that_never_completes_gets_408_and_the_stream_ends() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      FullHttpResponse r = client.raw("GET /reviews/1 HTTP/1.1\r\nHost: reviews.shop\r\nx-slow: 1\r\n");
      assertThat(r.status().code()).isEqualTo(408);
      r.release();
      client.awaitEnd();
    }
    assertThat(destinationSaw).isEmpty();
  }

  // ------------------------------------------------------------------ telemetry

  @Test
  void every_request_is_counted_by_response_code_and_logged_with_its_route_backend_and_trace() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      for (int i = 0; i < 3; i++) {
        body(client.get("/anything/" + i, Map.of("x-canary", "always")));
      }
      body(client.get("/nowhere", Map.of()));
    }
    String principal = SpiffeId.of(TestCa.TRUST_DOMAIN, "shop", "frontend").uri();
    assertThat(registry.get("istio_requests_total").tag("response_code", "200").tag("source_principal", principal)
        .tag("destination_service_name", "reviews").counter().count()).isEqualTo(3);
    assertThat(registry.get("istio_requests_total").tag("response_code", "404").counter().count()).isEqualTo(1);
    assertThat(registry.get("istio_request_duration").tag("response_code", "200").summary().count()).isEqualTo(3);

    assertThat(logged).hasSize(4);
    RequestTelemetry.Entry ok = logged.get(0);
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.source()).isEqualTo("10.0.0.5:40000");
    assertThat(ok.route()).isEqualTo("shop/reviews");
    assertThat(ok.backend()).isEqualTo("shop/reviews-v2");
    assertThat(ok.endpoint()).isEqualTo(V2_IP + ":" + appPort);
    assertThat(ok.responseBytes()).isEqualTo(2);
    assertThat(ok.traceId()).hasSize(32);
    assertThat(ok.flag()).isEmpty();
    RequestTelemetry.Entry notFound = logged.get(3);
    assertThat(notFound.status()).isEqualTo(404);
    assertThat(notFound.flag()).isEqualTo("no_route");
    assertThat(notFound.path()).isEqualTo("/nowhere");
  }

  @Test
  void the_callers_trace_is_kept_with_a_new_span_and_a_trace_is_started_when_there_is_none() throws Exception {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    try (Client client = new Client(VIP + ":9080")) {
      FullHttpResponse continued = client.get("/reviews/1", Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01"));
      String seen = continued.headers().get("x-traceparent-seen");
      continued.release();
      assertThat(seen).matches("00-" + traceId + "-[0-9a-f]{16}-01").doesNotContain("00f067aa0ba902b7");

      FullHttpResponse started = client.get("/reviews/2", Map.of("traceparent", "not a trace"));
      String fresh = started.headers().get("x-traceparent-seen");
      started.release();
      assertThat(fresh).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01").doesNotContain(traceId);
      assertThat(logged.get(1).traceId()).isEqualTo(fresh.substring(3, 35));
    }
  }

  // ------------------------------------------------------------------ outlier detection

  @Test
  void an_endpoint_answering_500_five_times_in_a_row_is_ejected_and_the_rest_go_to_the_healthy_one() throws Exception {
    Map<Integer, Integer> statuses = new HashMap<>();
    Map<String, Integer> versions = new HashMap<>();
    try (Client client = new Client(VIP + ":9080")) {
      for (int i = 0; i < 40; i++) {
        FullHttpResponse r = client.get("/both/fail-" + i, Map.of());
        statuses.merge(r.status().code(), 1, Integer::sum);
        versions.merge(body(r), 1, Integer::sum);
      }
    }
    // v2, the faster, answered 500 until its fifth in a row ejected it; v1 took everything else
    assertThat(statuses).containsEntry(500, 5).containsEntry(200, 35);
    assertThat(versions).containsEntry("v2", 5).containsEntry("v1", 35);
  }

  // ------------------------------------------------------------------ HTTP/2

  /** A source's HBONE stream to the waypoint speaking HTTP/2 with prior knowledge: one inner stream per request. */
  private final class H2Client implements AutoCloseable {
    final Http2StreamChannel stream;

    H2Client(String authority) throws Exception {
      Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
      HboneConnection connection = await(
          HboneConnection.connect(b, waypointAddress, tls.client(source), waypoint.identity(), HboneSettings.defaults()));
      stream = await(connection.channel().eventLoop().submit(
          () -> connection.open(authority, Map.of(Hbone.FORWARDED.toString(), "for=\"10.0.0.5:40000\""))).get());
      stream.eventLoop().submit(() -> {
        stream.pipeline().addLast(new StreamBytes(), Http2FrameCodecBuilder.forClient().build(),
            new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, Object msg) {}
            }));
        stream.config().setAutoRead(true);
      }).get();
    }

    FullHttpResponse get(String path, Map<String, String> headers) throws Exception {
      FullHttpResponse response = start(HttpMethod.GET, path, headers, Unpooled.EMPTY_BUFFER).poll(10, TimeUnit.SECONDS);
      assertThat(response).as("an HTTP/2 response to GET " + path).isNotNull();
      return response;
    }

    /** Opens an inner stream and sends the request on it; its whole response arrives in the queue. */
    LinkedBlockingQueue<FullHttpResponse> start(HttpMethod method, String path, Map<String, String> headers, ByteBuf body)
        throws Exception {
      LinkedBlockingQueue<FullHttpResponse> answer = new LinkedBlockingQueue<>();
      Http2StreamChannel inner = await(new Http2StreamChannelBootstrap(stream).handler(new ChannelInitializer<Http2StreamChannel>() {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
          ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new HttpObjectAggregator(16 << 20),
              new SimpleChannelInboundHandler<FullHttpResponse>(false) {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse msg) {
                  answer.add(msg);
                }
              });
        }
      }).open());
      FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path, body);
      request.headers().set(HttpHeaderNames.HOST, "reviews.shop:9080");
      request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
      headers.forEach(request.headers()::set);
      inner.writeAndFlush(request);
      return answer;
    }

    @Override
    public void close() {
      stream.close();
    }
  }

  @Test
  void http2_with_prior_knowledge_is_routed_like_http1_one_inner_stream_per_request() throws Exception {
    Map<String, Integer> seen = new HashMap<>();
    try (H2Client client = new H2Client(VIP + ":9080")) {
      for (int i = 0; i < 10; i++) {
        FullHttpResponse r = client.get("/reviews/" + i, Map.of());
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(r.headers().get("x-route-seen")).isEqualTo("canary");
        seen.merge(body(r), 1, Integer::sum);
      }
      FullHttpResponse notFound = client.get("/nothing-here", Map.of());
      assertThat(notFound.status().code()).isEqualTo(404);
      notFound.release();
      FullHttpResponse v2 = client.get("/anything", Map.of("x-canary", "always"));
      assertThat(body(v2)).isEqualTo("v2");
    }
    // draws 0..9 of the 90/10 split: all v1
    assertThat(seen).containsEntry("v1", 10);
    assertThat(logged).hasSize(12);
  }

  @Test
  void a_clients_kept_alive_requests_share_one_upstream_app_connection() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      for (int i = 0; i < 20; i++) {
        assertThat(body(client.get("/anything/" + i, Map.of("x-canary", "always")))).isEqualTo("v2");
      }
    }
    // One CONNECT to v2's agent carried all twenty: the app saw one connection, not twenty.
    assertThat(destinationSaw).hasSize(1);
  }

  @Test
  void bodies_larger_than_any_buffer_stream_through_both_ways() throws Exception {
    byte[] upload = new byte[4 << 20]; // four times maxBody: never held whole
    java.util.Arrays.fill(upload, (byte) 'u');
    try (Client client = new Client(VIP + ":9080")) {
      FullHttpResponse counted = client.send(HttpMethod.POST, "/upload", Map.of("x-canary", "always"),
          Unpooled.wrappedBuffer(upload));
      assertThat(counted.status().code()).isEqualTo(200);
      assertThat(body(counted)).isEqualTo(Integer.toString(upload.length));

      FullHttpResponse big = client.get("/big/" + (8 << 20), Map.of("x-canary", "always"));
      assertThat(big.status().code()).isEqualTo(200);
      assertThat(big.content().readableBytes()).isEqualTo(8 << 20);
      big.release();
      // and the stream goes on after them
      assertThat(body(client.get("/anything", Map.of("x-canary", "always")))).isEqualTo("v2");
    }
  }

  @Test
  void over_http2_bodies_larger_than_any_flow_control_window_stream_through_both_ways_on_concurrent_streams() throws Exception {
    byte[] upload = new byte[4 << 20]; // 64 times the client's stream and connection windows: sent as the waypoint acknowledges it
    java.util.Arrays.fill(upload, (byte) 'u');
    try (H2Client client = new H2Client(VIP + ":9080")) {
      var counted = client.start(HttpMethod.POST, "/upload", Map.of("x-canary", "always"), Unpooled.wrappedBuffer(upload));
      var big = client.start(HttpMethod.GET, "/big/" + (8 << 20), Map.of("x-canary", "always"), Unpooled.EMPTY_BUFFER);
      var small = client.start(HttpMethod.GET, "/anything", Map.of("x-canary", "always"), Unpooled.EMPTY_BUFFER);

      FullHttpResponse s = small.poll(20, TimeUnit.SECONDS);
      assertThat(s).as("the small request beside two large ones").isNotNull();
      assertThat(body(s)).isEqualTo("v2");
      FullHttpResponse c = counted.poll(20, TimeUnit.SECONDS);
      assertThat(c).as("the upload's answer").isNotNull();
      assertThat(c.status().code()).isEqualTo(200);
      assertThat(body(c)).isEqualTo(Integer.toString(upload.length));
      FullHttpResponse b = big.poll(20, TimeUnit.SECONDS);
      assertThat(b).as("the download").isNotNull();
      assertThat(b.status().code()).isEqualTo(200);
      assertThat(b.content().readableBytes()).isEqualTo(8 << 20);
      b.release();
      // and the connection goes on after them
      assertThat(body(client.get("/anything", Map.of("x-canary", "always")))).isEqualTo("v2");
    }
  }

  @Test
  void an_http2_client_resetting_its_stream_mid_response_is_logged_499_and_its_connection_goes_on() throws Exception {
    try (H2Client client = new H2Client(VIP + ":9080")) {
      java.util.concurrent.CompletableFuture<Void> head = new java.util.concurrent.CompletableFuture<>();
      Http2StreamChannel inner = await(new Http2StreamChannelBootstrap(client.stream).handler(new ChannelInitializer<Http2StreamChannel>() {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
          ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              io.netty.util.ReferenceCountUtil.release(msg);
              if (msg instanceof io.netty.handler.codec.http2.Http2HeadersFrame && head.complete(null)) {
                ctx.close(); // RST_STREAM (CANCEL) with most of the answer still to come
              }
            }
          });
        }
      }).open());
      var request = new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET").path("/big/" + (64 << 20))
          .scheme("http").authority("reviews.shop:9080");
      request.add("x-canary", "always");
      inner.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(request, true));
      head.get(10, TimeUnit.SECONDS);

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (logged.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(logged).singleElement().satisfies(e -> {
        assertThat(e.status()).isEqualTo(499);
        assertThat(e.flag()).contains("client_gone");
        assertThat(e.responseBytes()).isLessThan(64 << 20);
      });
      // the other streams of the connection are not affected
      assertThat(body(client.get("/anything", Map.of("x-canary", "always")))).isEqualTo("v2");
    }
  }

  // ------------------------------------------------------------------ TrafficPolicy and authorization

  @Test
  void a_503_the_policy_retries_is_tried_again_and_the_client_sees_only_the_answer() throws Exception {
    try (Client client = new Client(RETRYING_VIP + ":9080")) {
      FullHttpResponse r = client.get("/flaky/1", Map.of());
      assertThat(r.status().code()).isEqualTo(200);
      assertThat(body(r)).isEqualTo("v2");
    }
    assertThat(appSaw).containsExactly("v2 /flaky/1", "v2 /flaky/1");
    assertThat(logged).singleElement().satisfies(e -> assertThat(e.flag()).isEqualTo("retried"));
  }

  @Test
  void a_try_over_the_per_try_timeout_is_tried_again_then_answered_504() throws Exception {
    try (Client client = new Client(RETRYING_VIP + ":9080")) {
      FullHttpResponse r = client.get("/slow/1", Map.of());
      assertThat(r.status().code()).isEqualTo(504);
      r.release();
    }
    // the first try and its one retry (the app answers one request at a time: the second shows up late)
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (appSaw.size() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(appSaw).containsExactly("v2 /slow/1", "v2 /slow/1");
    assertThat(logged).singleElement().satisfies(e -> assertThat(e.status()).isEqualTo(504));
  }

  /** Opens a tunnel to {@code authority}, sends {@code bytes} then END_STREAM, and collects what comes back until the tunnel ends. */
  private byte[] tcpExchange(String authority, byte[] bytes) throws Exception {
    Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
    HboneConnection connection = await(HboneConnection.connect(b, waypointAddress, tls.client(source), waypoint.identity(),
        HboneSettings.defaults()));
    Http2StreamChannel stream = await(connection.channel().eventLoop().submit(
        () -> connection.open(authority, Map.of(Hbone.FORWARDED.toString(), "for=\"10.0.0.5:40000\""))).get());
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    java.util.concurrent.CompletableFuture<byte[]> done = new java.util.concurrent.CompletableFuture<>();
    stream.eventLoop().submit(() -> {
      stream.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          if (msg instanceof io.netty.handler.codec.http2.Http2DataFrame data) {
            byte[] chunk = io.netty.buffer.ByteBufUtil.getBytes(data.content());
            got.writeBytes(chunk);
            boolean end = data.isEndStream();
            data.release();
            if (end) {
              done.complete(got.toByteArray());
            }
          } else {
            io.netty.util.ReferenceCountUtil.release(msg);
          }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
          done.complete(got.toByteArray());
        }
      });
      stream.config().setAutoRead(true);
      stream.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true));
    }).get();
    try {
      return done.get(20, TimeUnit.SECONDS);
    } finally {
      connection.channel().close();
    }
  }

  private double tcpCounter(String name, String service) {
    var c = registry.find(name).tags("destination_service_name", service, "request_protocol", "tcp").counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void a_tcp_port_is_passed_on_as_bytes_both_ways_with_its_half_close() throws Exception {
    byte[] payload = new byte[300_000]; // more than a stream window
    new java.util.Random(7).nextBytes(payload);

    byte[] back = tcpExchange(TCP_VIP + ":7000", payload);

    assertThat(back).as("echoed through the waypoint, then ended after the client's END_STREAM").isEqualTo(payload);
    assertThat(echo.accepted()).isEqualTo(1);
    assertThat(destinationSaw).anySatisfy(seen -> assertThat(seen).contains("for=\"10.0.0.5\""));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (tcpCounter("istio_tcp_connections_closed_total", "tcp-echo") < 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(tcpCounter("istio_tcp_connections_opened_total", "tcp-echo")).isEqualTo(1);
    assertThat(tcpCounter("istio_tcp_received_bytes_total", "tcp-echo")).isEqualTo(payload.length);
    assertThat(tcpCounter("istio_tcp_sent_bytes_total", "tcp-echo")).isEqualTo(payload.length);
  }

  @Test
  void the_apps_own_tls_on_a_port_of_another_name_is_detected_and_passed_on_as_tcp() throws Exception {
    // the start of a TLS ClientHello record (type 22, version 3.1) and more: the waypoint cannot read it, only pass it on
    byte[] hello = new byte[512];
    new java.util.Random(11).nextBytes(hello);
    hello[0] = 0x16;
    hello[1] = 0x03;
    hello[2] = 0x01;

    assertThat(tcpExchange(TLS_VIP + ":7000", hello)).isEqualTo(hello);
    assertThat(tcpCounter("istio_tcp_connections_opened_total", "tls-echo")).isEqualTo(1);
    assertThat(logged).as("no HTTP request was seen").isEmpty();
  }

  @Test
  void a_tcp_connection_to_a_service_whose_deny_policy_has_http_rules_is_refused() throws Exception {
    // the rule's paths cannot be checked on bytes: the DENY applies on its other fields (fail closed, as ztunnel)
    assertThat(tcpExchange(TCP_DENIED_VIP + ":7000", "hello".getBytes(StandardCharsets.UTF_8))).isEmpty();
    assertThat(echo.accepted()).isZero();
  }

  @Test
  void requests_over_the_local_rate_limit_get_429_and_reach_no_backend() throws Exception {
    List<Integer> statuses = new ArrayList<>();
    try (Client client = new Client(LIMITED_VIP + ":9080")) {
      for (int i = 0; i < 4; i++) {
        FullHttpResponse r = client.get("/flaky/limited-" + i, Map.of());
        statuses.add(r.status().code());
        r.release();
      }
    }
    // two tokens: the first two reach v1 (its first answer to a path is 503, no retry policy here)
    assertThat(statuses).containsExactly(503, 503, 429, 429);
    assertThat(appSaw).hasSize(2);
    assertThat(logged).extracting(RequestTelemetry.Entry::flag).containsExactly("", "", "rate_limited", "rate_limited");
  }

  @Test
  void an_injected_abort_answers_its_status_without_the_backend() throws Exception {
    try (Client client = new Client(FAULTY_VIP + ":9080")) {
      FullHttpResponse r = client.get("/flaky/faulty", Map.of());
      assertThat(r.status().code()).isEqualTo(418);
      r.release();
    }
    assertThat(appSaw).isEmpty();
    assertThat(logged).singleElement().satisfies(e -> assertThat(e.flag()).isEqualTo("fault_abort"));
  }

  @Test
  void a_path_an_l7_deny_rule_names_gets_403_under_every_spelling_and_others_pass() throws Exception {
    try (Client client = new Client(VIP + ":9080")) {
      for (String spelling : List.of("/admin", "/admin/users", "//admin", "/%61dmin", "/public/../admin")) {
        FullHttpResponse r = client.get(spelling, Map.of("x-canary", "always"));
        assertThat(r.status().code()).as(spelling).isEqualTo(403);
        r.release();
      }
      FullHttpResponse ok = client.get("/public/admin", Map.of("x-canary", "always")); // "/admin*" is a prefix
      assertThat(ok.status().code()).isEqualTo(200);
      ok.release();
    }
    assertThat(destinationSaw).hasSize(1); // only the allowed request went on
  }

  @Test
  void rapid_reset_ends_the_offenders_connection_and_other_clients_are_unaffected() throws Exception {
    try (H2Client attacker = new H2Client(VIP + ":9080"); Client other = new Client(VIP + ":9080")) {
      for (int i = 0; i < 300 && attacker.stream.isActive(); i++) {
        var opening = new Http2StreamChannelBootstrap(attacker.stream).handler(new ChannelInitializer<Http2StreamChannel>() {
          @Override
          protected void initChannel(Http2StreamChannel ch) {
            ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false));
          }
        }).open();
        if (!opening.await(10, TimeUnit.SECONDS) || !opening.isSuccess()) {
          break; // the waypoint has already ended the connection
        }
        Http2StreamChannel inner = opening.getNow();
        // answered by the waypoint itself (no route): the flood is about resets, not backend work
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/nowhere", Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.HOST, "reviews.shop:9080");
        request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        inner.writeAndFlush(request);
        inner.close(); // RST_STREAM right after HEADERS
      }
      assertThat(attacker.stream.closeFuture().await(10, TimeUnit.SECONDS))
          .as("the waypoint ended the connection that reset streams too fast").isTrue();

      FullHttpResponse ok = other.get("/reviews/3", Map.of());
      assertThat(ok.status().code()).isEqualTo(200);
      ok.release();
    }
  }
}

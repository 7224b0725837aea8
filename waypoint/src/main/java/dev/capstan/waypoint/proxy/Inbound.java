package dev.capstan.waypoint.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.hbone.HboneStreams;
import dev.capstan.core.io.Flushes;
import dev.capstan.core.io.Hold;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.waypoint.authz.RequestAuthorization;
import dev.capstan.waypoint.authz.RequestPaths;
import dev.capstan.waypoint.balance.PeakEwma;
import dev.capstan.waypoint.resilience.PolicyStates;
import dev.capstan.waypoint.resilience.ResolvedPolicy;
import dev.capstan.waypoint.route.RequestView;
import dev.capstan.waypoint.route.RouteTable;
import dev.capstan.waypoint.route.RouteTable.Decision;
import dev.capstan.waypoint.state.WaypointView;
import dev.capstan.waypoint.telemetry.RequestTelemetry;
import dev.capstan.waypoint.telemetry.Traceparent;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waypoint's request path, top-down: {@code Inbound} (a client's stream and its requests) →
 * {@link Exchange} (one request, streamed to an endpoint and back) → {@link Upstream} (the
 * connections to endpoints, reused).
 *
 * <ol>
 *   <li>Accept: a source node agent's HBONE CONNECT must name a known service VIP:port (else 400);
 *       the stream is answered 200 and its protocol detected: HTTP/2 with prior knowledge (one
 *       request per inner stream, {@link Http2Requests}) or HTTP/1.1 (one request at a time,
 *       keep-alive, {@link RequestReader}).
 *   <li>Route: per request head, the service port's {@link RouteTable} picks a rule and a backend;
 *       404, 500 and redirects are answered here, as are bad requests ({@link BadRequests}).
 *   <li>Forward: the {@link Exchange} picks a healthy endpoint and sends the request over a
 *       reused app connection, in the client's protocol (or the port's, when its name says
 *       {@code http2}, {@code grpc} or {@code h2c}), with the route's rewrites and header changes.
 * </ol>
 */
public final class Inbound implements HboneServer.Acceptor {

  private static final Logger LOG = LoggerFactory.getLogger(Inbound.class);
  private static final String TRACEPARENT = "traceparent";

  /**
   * Settings of the request path.
   *
   * @param trustDomain trust domain of the destination identities
   * @param hbonePort the node agents' HBONE port
   * @param maxBody largest request body dropped after a local answer before the stream is closed, in bytes
   * @param defaultTimeout how long a request may wait for its response head when its route sets no timeout
   * @param maxStreamsPerConnection streams per upstream HBONE connection
   * @param maxHeaderSize largest request head (request line and headers) read, in bytes; larger gets 431
   * @param requestReadTimeout how long an HTTP/1.1 request may take to arrive once its first byte has; then 408
   * @param upstreamIdleTimeout how long an upstream connection may stay unused before it is closed
   */
  public record Settings(String trustDomain, int hbonePort, int maxBody, Duration defaultTimeout, int maxStreamsPerConnection,
      int maxHeaderSize, Duration requestReadTimeout, Duration upstreamIdleTimeout) {}

  private final Settings settings;
  private final Supplier<WaypointView> view;
  private final Upstream upstream;
  private final RequestTelemetry telemetry;
  private final Exchange.Shared shared;
  private final PolicyStates states;
  private volatile WaypointView lastView;

  /**
   * {@code view} is read per request (the current config); {@code clientTls} presents the
   * waypoint's identity to the node agents; {@code upstream} dials them.
   */
  public Inbound(Settings settings, Supplier<WaypointView> view, Supplier<SslContext> clientTls,
      Bootstrap upstream, HboneSettings hbone, RequestTelemetry telemetry) {
    this(settings, view, clientTls, upstream, hbone, telemetry, bound -> ThreadLocalRandom.current().nextInt(bound));
  }

  /** As above, with the source of the weighted choices given (a number in {@code [0, bound)}), for tests. */
  public Inbound(Settings settings, Supplier<WaypointView> view, Supplier<SslContext> clientTls,
      Bootstrap upstream, HboneSettings hbone, RequestTelemetry telemetry, IntUnaryOperator random) {
    this.telemetry = telemetry;
    this.settings = settings;
    this.view = view;
    this.upstream = new Upstream(upstream, hbone, settings.maxStreamsPerConnection(), settings.upstreamIdleTimeout());
    PeakEwma latency = new PeakEwma(TimeUnit.SECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(1), System::nanoTime);
    this.states = new PolicyStates(System::nanoTime, latency);
    this.shared = new Exchange.Shared(settings, view, this.upstream, latency, clientTls, random,
        () -> ThreadLocalRandom.current().nextDouble(), new Endpoints.Cache(settings));
  }

  /** The current view, its policy state pruned to its services when it is new. */
  private WaypointView current() {
    WaypointView v = view.get();
    if (v != lastView) {
      synchronized (this) {
        if (v != lastView) {
          states.retain(v::hasService);
          lastView = v;
        }
      }
    }
    return v;
  }

  @Override
  public void accept(HboneServer.Request request) {
    Http2StreamChannel stream = request.stream();
    WaypointView current = view.get();
    Optional<Service> service = current.serviceByVip(request.target());
    if (service.isEmpty()) {
      LOG.warn("HBONE CONNECT from {} to {}: not a service this waypoint serves (400)", request.peer(), request.target());
      HboneStreams.refuse(stream, Hbone.BAD_REQUEST);
      return;
    }
    InetSocketAddress source = Optional.ofNullable(request.headers().get(Hbone.FORWARDED))
        .flatMap(Hbone::parseForwardedFor).orElse(request.peerAddress());
    Requests requests = new Requests(service.get(), request.target().getPort(), source, request.peer().uri());
    if (Requests.opaque(service.get(), request.target().getPort())) {
      // a TCP port (by its name, as Istio reads port names): no detection, the server may speak first
      stream.pipeline().addLast("bytes", new StreamBytes());
      HboneStreams.accept(stream);
      requests.passOn(stream.pipeline().context("bytes"));
      return;
    }
    stream.pipeline().addLast(new StreamBytes(), new SlowRequest(settings.requestReadTimeout()), new ProtocolDetect(
        // HTTP/1.1: one request at a time on the stream
        ctx -> {
          HttpDecoderConfig decoding = new HttpDecoderConfig()
              .setMaxHeaderSize(settings.maxHeaderSize()).setMaxInitialLineLength(settings.maxHeaderSize());
          ctx.pipeline().addAfter(ctx.name(), "http1-requests", new RequestReader(requests));
          ctx.pipeline().addAfter(ctx.name(), "http1-encoder", new HttpResponseEncoder());
          ctx.pipeline().addAfter(ctx.name(), "http1-decoder", new HttpRequestDecoder(decoding));
        },
        // HTTP/2 with prior knowledge: each inner stream is one request
        ctx -> {
          ctx.pipeline().remove(SlowRequest.class);
          String from = Hbone.authority(source);
          ctx.pipeline().addAfter(ctx.name(), "h2", Http2Requests.create(requests, settings.maxHeaderSize(),
              (error, detail) -> telemetry.connectionError("http2", error.name(), from, detail)));
          // The answers of many streams, written as their upstreams answer, leave once per
          // event-loop turn: one DATA frame of the tunnel for all of them (StreamBytes), not one each.
          ctx.pipeline().addAfter(ctx.name(), "h2-flush", Flushes.perTurn());
        },
        // the app's own TLS: opaque bytes to an endpoint of the service
        ctx -> {
          ctx.pipeline().remove(SlowRequest.class);
          requests.passOn(ctx);
        }));
    HboneStreams.accept(stream);
    stream.config().setAutoRead(true);
  }

  @Override
  public void refused(HboneServer.Refusal refusal) {
    LOG.warn("HBONE refused from {}: {} ({})", refusal.peerAddress(), refusal.reason(), refusal.detail());
  }

  /** Closes the upstream connections. */
  public void close() {
    upstream.closeAll();
  }

  /** The requests of one client stream to one service port: where each goes. */
  private final class Requests implements RequestReader.Starter {
    private final Service service;
    private final int port;
    private final InetSocketAddress source;
    private final String principal;
    // per stream, not per request
    private final String serviceKey;
    private final String sourceAuthority;
    private WaypointView tableView;
    private RouteTable table;

    Requests(Service service, int port, InetSocketAddress source, String principal) {
      this.service = service;
      this.port = port;
      this.source = source;
      this.principal = principal;
      this.serviceKey = service.key();
      this.sourceAuthority = Hbone.authority(source);
    }

    /** Whether a service port carries opaque TCP by its name ({@code tcp*}, {@code tls*}, {@code https*}), as Istio reads port names. */
    static boolean opaque(Service service, int port) {
      String name = service.port(port).map(ServicePort::name).orElse("");
      return name.startsWith("tcp") || name.startsWith("tls") || name.startsWith("https");
    }

    /**
     * Passes the stream's bytes (from after {@code ctx}) on as TCP to an endpoint of the service,
     * chosen by the service's TrafficPolicy picker among endpoints not ejected, once L4 authorization
     * allows it; holds what arrives until the upstream stream is open.
     */
    void passOn(ChannelHandlerContext ctx) {
      Channel client = ctx.channel();
      client.config().setAutoRead(false);
      Hold hold = new Hold();
      ctx.pipeline().addAfter(ctx.name(), "tcp-hold", hold);
      WaypointView current = current();
      RequestAuthorization.Verdict verdict = current.authorizations().forService(service.namespace(), service.name())
          .checkConnection(principal, port);
      if (!verdict.allowed()) {
        LOG.info("TCP connection from {} ({}) to {}:{} denied: {}", source, principal, serviceKey, port, verdict.reason());
        client.close();
        return;
      }
      ResolvedPolicy policy = current.trafficPolicies(states).forService(serviceKey);
      Endpoints.Target t = shared.endpoints().get(current, serviceKey, port).pick(policy, shared.random(), List.of());
      if (t == null) {
        LOG.warn("TCP connection from {} to {}:{}: no healthy endpoint, closed", source, serviceKey, port);
        client.close();
        return;
      }
      Upstream.AppKey key = new Upstream.AppKey(new Upstream.Key(t.identity(), t.agent()), t.address(), source.getAddress(),
          Upstream.Protocol.TCP);
      upstream.tunnel(client.eventLoop(), key, shared.clientTls().get()).addListener(f -> {
        if (!f.isSuccess()) {
          LOG.warn("TCP connection from {} to {}: upstream {} failed: {}", source, serviceKey, t.authority(), f.cause().getMessage());
          client.close();
          return;
        }
        Http2StreamChannel up = (Http2StreamChannel) f.getNow();
        if (!client.isActive()) {
          up.close();
          return;
        }
        up.pipeline().addLast("bytes", new StreamBytes());
        long[] bytes = new long[2];
        telemetry.tcpOpened(principal, serviceKey);
        TcpRelay.join(client, up, n -> bytes[0] += n, n -> bytes[1] += n,
            () -> telemetry.tcpClosed(principal, serviceKey, sourceAuthority, t.authority(), bytes[0], bytes[1]));
        hold.replay(client.pipeline().context(hold));
      });
    }

    /** The service port's routing table in {@code current}, looked up once per view. */
    private RouteTable table(WaypointView current) {
      if (tableView != current) {
        table = current.routes(service, port);
        tableView = current;
      }
      return table;
    }

    @Override
    public Exchange open(ClientStream client, HttpRequest head) {
      Call call = new Call(telemetry, sourceAuthority, principal, serviceKey, head);
      return new Exchange(shared, client, head, source, call);
    }

    @Override
    public void route(Exchange exchange) {
      HttpRequest request = exchange.head();
      if (!request.decoderResult().isSuccess()) {
        // The decoder discards the rest of the stream after a bad message: answer and close.
        Throwable cause = request.decoderResult().cause();
        HttpResponseStatus status = BadRequests.status(cause);
        LOG.warn("bad request from {} to {}: {} ({})", source, service.key(), cause.getMessage(), status.code());
        exchange.refuse(status, BadRequests.reason(cause));
        return;
      }
      if (HttpUtil.is100ContinueExpected(request)) {
        // Answered here, as a proxy that reads the body itself does; the upstream is not asked.
        request.headers().remove(HttpHeaderNames.EXPECT);
        exchange.continueRequest();
      }
      // W3C trace context: the caller's trace, this hop's span.
      Traceparent trace = Traceparent.next(request.headers().get(TRACEPARENT), ThreadLocalRandom.current()::nextLong);
      request.headers().set(TRACEPARENT, trace.header());
      exchange.call.traceId = trace.traceId();
      WaypointView current = current();
      RequestAuthorization authorization = current.authorizations().forService(service.namespace(), service.name());
      if (authorization.any()) {
        // The path checked is the path forwarded (one resource, one spelling: //admin, /%61dmin, /x/../admin).
        String path = Call.pathOf(request.uri());
        String normal = RequestPaths.normalize(path);
        if (!normal.equals(path)) {
          request.setUri(normal + request.uri().substring(path.length()));
        }
        RequestAuthorization.Verdict verdict = authorization.check(principal, port, new View(request));
        if (!verdict.allowed()) {
          LOG.info("request from {} ({}) to {} {} denied: {}", source, principal, service.key(), normal, verdict.reason());
          exchange.answer(HttpResponseStatus.FORBIDDEN, "RBAC: access denied", "denied");
          return;
        }
      }
      Decision decision = table(current).route(new View(request), shared.random());
      if (decision instanceof Decision.NotFound) {
        exchange.answer(HttpResponseStatus.NOT_FOUND, "no route for " + request.method() + " " + request.uri(), "no_route");
      } else if (decision instanceof Decision.NoBackend nb) {
        exchange.call.route = nb.route();
        exchange.answer(HttpResponseStatus.INTERNAL_SERVER_ERROR, "route " + nb.route() + " rule " + nb.rule() + " has no backend",
            "no_backend");
      } else if (decision instanceof Decision.Redirect r) {
        FullHttpResponse response = Exchange.local(HttpResponseStatus.valueOf(r.status()), "");
        response.headers().set(HttpHeaderNames.LOCATION, r.location());
        exchange.call.route = r.route();
        exchange.answer(response, "redirect");
      } else {
        Decision.Forward forward = (Decision.Forward) decision;
        ResolvedPolicy policy = current.trafficPolicies(states).forService(forward.backend().service());
        exchange.forward(forward, current, protocol(current, forward, exchange), policy);
      }
    }

    /** The client's protocol, unless the backend port's name says HTTP/2 (as Istio reads port names). */
    private Upstream.Protocol protocol(WaypointView current, Decision.Forward forward, Exchange exchange) {
      String name = current.service(forward.backend().service())
          .flatMap(s -> s.port(forward.backend().port())).map(ServicePort::name).orElse("");
      String type = exchange.head().headers().get(HttpHeaderNames.CONTENT_TYPE);
      if (type != null && type.startsWith("application/grpc")) {
        return Upstream.Protocol.HTTP2; // gRPC needs HTTP/2 end to end
      }
      if (name.startsWith("grpc") || name.startsWith("http2") || name.startsWith("h2c")) {
        return Upstream.Protocol.HTTP2;
      }
      if (name.equals("http") || name.startsWith("http-")) {
        return Upstream.Protocol.HTTP1;
      }
      return exchange.clientSpeaksHttp2() ? Upstream.Protocol.HTTP2 : Upstream.Protocol.HTTP1;
    }
  }

  /** A request head as the route table reads it. */
  private record View(HttpRequest request) implements RequestView {
    @Override
    public String method() {
      return request.method().name();
    }

    @Override
    public String authority() {
      String host = request.headers().get(HttpHeaderNames.HOST);
      return host == null ? "" : host;
    }

    @Override
    public String path() {
      return Call.pathOf(request.uri());
    }

    @Override
    public String query() {
      int q = request.uri().indexOf('?');
      return q < 0 ? "" : request.uri().substring(q + 1);
    }

    @Override
    public List<String> headers(String name) {
      return request.headers().getAll(name);
    }
  }
}

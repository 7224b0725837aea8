package dev.capstan.waypoint.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.hbone.HboneStreams;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.waypoint.balance.OutlierDetection;
import dev.capstan.waypoint.balance.PeakEwma;
import dev.capstan.waypoint.route.HeaderEditor;
import dev.capstan.waypoint.route.RequestView;
import dev.capstan.waypoint.route.RouteTable;
import dev.capstan.waypoint.route.RouteTable.Decision;
import dev.capstan.waypoint.state.WaypointView;
import dev.capstan.waypoint.telemetry.RequestTelemetry;
import dev.capstan.waypoint.telemetry.Traceparent;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waypoint's request path. A source node agent opens an HBONE stream to the waypoint with
 * {@code :authority} = the service VIP:port; the stream carries the client's HTTP/1.1.
 *
 * <ol>
 *   <li>Accept: the VIP:port must be a known service (else 400 on the CONNECT); the stream is
 *       answered 200 and read as HTTP/1.1, one request at a time.
 *   <li>Route: the service port's {@link RouteTable} picks a rule and a backend (404, 500 or a
 *       redirect answered here); a service without routes goes to itself.
 *   <li>Forward: a healthy endpoint of the backend (P2C over peak EWMA latency), through a new CONNECT stream to
 *       its node agent, as the waypoint's identity, with {@code Forwarded: for=} the original
 *       source; the request with the route's rewrites and header changes, the response back with
 *       its header changes.
 * </ol>
 *
 * <p>Requests and responses are read whole (bounded by {@code maxBody}; larger requests get 413).
 */
public final class Inbound implements HboneServer.Acceptor {

  private static final Logger LOG = LoggerFactory.getLogger(Inbound.class);

  /**
   * Settings of the request path.
   *
   * @param trustDomain trust domain of the destination identities
   * @param hbonePort the node agents' HBONE port
   * @param maxBody largest request or response body read, in bytes
   * @param defaultTimeout how long a request may wait for its response when its route sets no timeout
   * @param maxStreamsPerConnection streams per upstream HBONE connection
   * @param maxHeaderSize largest request head (request line and headers) read, in bytes; larger gets 431
   * @param requestReadTimeout how long a request may take to arrive once its first byte has; then 408
   */
  public record Settings(String trustDomain, int hbonePort, int maxBody, Duration defaultTimeout, int maxStreamsPerConnection,
      int maxHeaderSize, Duration requestReadTimeout) {}

  private final Settings settings;
  private final Supplier<WaypointView> view;
  private final Supplier<SslContext> clientTls;
  private final Upstream upstream;
  private final PeakEwma balancer = new PeakEwma(TimeUnit.SECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(1), System::nanoTime);
  private final OutlierDetection outliers = new OutlierDetection(OutlierDetection.Settings.defaults(), System::nanoTime);
  private final IntUnaryOperator random;
  private final RequestTelemetry telemetry;

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
    this.random = random;
    this.settings = settings;
    this.view = view;
    this.clientTls = clientTls;
    this.upstream = new Upstream(upstream, hbone, settings.maxStreamsPerConnection());
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
    Service svc = service.get();
    int port = request.target().getPort();
    String principal = request.peer().uri();
    stream.pipeline().addLast(new StreamBytes(), new SlowRequest(settings.requestReadTimeout()), new ProtocolDetect(
        // HTTP/1.1: one request at a time on the stream
        ctx -> {
          HttpDecoderConfig decoding = new HttpDecoderConfig()
              .setMaxHeaderSize(settings.maxHeaderSize()).setMaxInitialLineLength(settings.maxHeaderSize());
          ctx.pipeline().addAfter(ctx.name(), "http1-exchange", new Exchange(svc, port, source, principal));
          ctx.pipeline().addAfter(ctx.name(), "http1-aggregator", new HttpObjectAggregator(settings.maxBody()));
          ctx.pipeline().addAfter(ctx.name(), "http1-encoder", new HttpResponseEncoder());
          ctx.pipeline().addAfter(ctx.name(), "http1-decoder", new HttpRequestDecoder(decoding));
        },
        // HTTP/2 with prior knowledge: each inner stream is one request
        ctx -> {
          ctx.pipeline().remove(SlowRequest.class);
          // Bounded: the head size is announced (SETTINGS_MAX_HEADER_LIST_SIZE) and enforced by
          // Netty's decoder (CONTINUATION included); more than 200 streams reset by the client in
          // 30 s (rapid reset) ends the connection with GOAWAY.
          Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
              .initialSettings(Http2Settings.defaultSettings().maxHeaderListSize(settings.maxHeaderSize()).maxConcurrentStreams(100))
              .decoderEnforceMaxRstFramesPerWindow(200, 30)
              .build();
          ctx.pipeline().addAfter(ctx.name(), "h2", codec);
          ctx.pipeline().addAfter("h2", "h2-requests", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel inner) {
              inner.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new HttpObjectAggregator(settings.maxBody()),
                  new Exchange(svc, port, source, principal));
            }
          }));
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

  /** The requests of one downstream stream, one at a time. */
  private final class Exchange extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Service service;
    private final int port;
    private final InetSocketAddress source;
    private final String principal;

    Exchange(Service service, int port, InetSocketAddress source, String principal) {
      super(false);
      this.service = service;
      this.port = port;
      this.source = source;
      this.principal = principal;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      Channel downstream = ctx.channel();
      downstream.config().setAutoRead(false); // the next request waits for this one's answer
      SlowRequest.arrived(downstream);
      Call call = new Call(Hbone.authority(source), principal, service.key(), request);
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      if (!request.decoderResult().isSuccess()) {
        // The decoder discards the rest of the stream after a bad message: answer and close.
        Throwable cause = request.decoderResult().cause();
        request.release();
        HttpResponseStatus status = BadRequests.status(cause);
        LOG.warn("bad request from {} to {}: {} ({})", source, service.key(), cause.getMessage(), status.code());
        respond(call.flag("bad_request"), downstream, false, local(status, BadRequests.reason(cause)));
        return;
      }
      // W3C trace context: the caller's trace, this hop's span.
      Traceparent trace = Traceparent.next(request.headers().get(TRACEPARENT), ThreadLocalRandom.current()::nextLong);
      request.headers().set(TRACEPARENT, trace.header());
      call.traceId = trace.traceId();
      WaypointView current = view.get();
      Decision decision = current.routes(service, port).route(new View(request), random);
      if (decision instanceof Decision.NotFound) {
        request.release();
        respond(call.flag("no_route"), downstream, keepAlive,
            local(HttpResponseStatus.NOT_FOUND, "no route for " + request.method() + " " + request.uri()));
      } else if (decision instanceof Decision.NoBackend nb) {
        request.release();
        call.route = nb.route();
        respond(call.flag("no_backend"), downstream, keepAlive,
            local(HttpResponseStatus.INTERNAL_SERVER_ERROR, "route " + nb.route() + " rule " + nb.rule() + " has no backend"));
      } else if (decision instanceof Decision.Redirect r) {
        request.release();
        FullHttpResponse response = local(HttpResponseStatus.valueOf(r.status()), "");
        response.headers().set(HttpHeaderNames.LOCATION, r.location());
        call.route = r.route();
        respond(call.flag("redirect"), downstream, keepAlive, response);
      } else {
        forward(call, downstream, keepAlive, request, (Decision.Forward) decision, current);
      }
    }

    private void forward(
        Call call, Channel downstream, boolean keepAlive, FullHttpRequest request, Decision.Forward route, WaypointView current) {
      call.route = route.route();
      call.backend = route.backend().service();
      Optional<Target> target = pickEndpoint(current, route.backend());
      if (target.isEmpty()) {
        request.release();
        respond(call.flag("no_healthy_endpoint"), downstream, keepAlive,
            local(HttpResponseStatus.SERVICE_UNAVAILABLE, "no healthy endpoint of " + route.backend().service()));
        return;
      }
      String query = request.uri().indexOf('?') < 0 ? "" : request.uri().substring(request.uri().indexOf('?'));
      request.setUri(route.path() + query);
      if (route.authority() != null) {
        request.headers().set(HttpHeaderNames.HOST, route.authority());
      }
      route.requestHeaders().forEach(c -> HeaderEditor.apply(c, new Editor(request.headers())));
      Target t = target.get();
      call.endpoint = Hbone.authority(t.address());
      PeakEwma.Request inFlight = balancer.start(t.uid());
      Map<String, String> connect = Map.of(Hbone.FORWARDED.toString(), Hbone.forwardedFor(source));
      upstream.open(downstream.eventLoop(), new Upstream.Key(t.identity(), t.peer()),
          clientTls.get(), Hbone.authority(t.address()), connect).addListener(f -> {
            if (!f.isSuccess()) {
              inFlight.done();
              outliers.observe(t.uid(), true, t.peers());
              request.release();
              LOG.warn("upstream {} for {} failed: {}", t.address(), route.backend().service(), f.cause().getMessage());
              respond(call.flag("upstream_connect_failed"), downstream, keepAlive,
                  local(HttpResponseStatus.SERVICE_UNAVAILABLE, "upstream connect failed"));
              return;
            }
            Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
            if (!downstream.isActive()) {
              // The client left (or reset its stream) while the upstream stream opened: no work for the backend.
              inFlight.done();
              request.release();
              stream.close();
              call.flag("client_gone").finished(499, 0);
              return;
            }
            Duration timeout = route.timeouts().request() != null ? route.timeouts().request() : settings.defaultTimeout();
            stream.pipeline().addLast(new StreamBytes(), new HttpClientCodec(), new HttpObjectAggregator(settings.maxBody()),
                new Answer(call, downstream, keepAlive, route, timeout, inFlight, t));
            stream.config().setAutoRead(true);
            HttpUtil.setKeepAlive(request, true);
            stream.writeAndFlush(request);
          });
    }

    /** A healthy endpoint of the backend with an address: P2C over peak EWMA latency ({@link PeakEwma}). */
    private Optional<Target> pickEndpoint(WaypointView current, Backend backend) {
      Optional<Service> svc = current.service(backend.service());
      if (svc.isEmpty()) {
        return Optional.empty();
      }
      int targetPort = svc.get().port(backend.port()).map(ServicePort::targetPort).orElse(backend.port());
      List<Workload> candidates = new ArrayList<>();
      for (Endpoint e : svc.get().endpoints()) {
        if (e.healthy()) {
          current.workload(e.workloadUid()).filter(w -> !w.ips().isEmpty()).ifPresent(candidates::add);
        }
      }
      if (candidates.isEmpty()) {
        return Optional.empty();
      }
      List<String> peers = candidates.stream().map(Workload::uid).toList();
      List<String> in = outliers.available(peers); // ejected endpoints left out (all used if all are out)
      String uid = in.get(balancer.pick(in, random));
      Workload w = candidates.get(peers.indexOf(uid));
      String ip = w.ips().get(0);
      return Optional.of(new Target(w.uid(), peers, new InetSocketAddress(ip, targetPort),
          new InetSocketAddress(ip, settings.hbonePort()), new SpiffeId(settings.trustDomain(), w.namespace(), w.serviceAccount())));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("downstream stream failed: {}", cause.toString());
      ctx.close();
    }
  }

  /** An endpoint: its workload, the backend's endpoints it was chosen from, where it listens, its node agent, its identity. */
  private record Target(String uid, List<String> peers, InetSocketAddress address, InetSocketAddress peer, SpiffeId identity) {}

  /** Waits for the upstream's response and relays it. */
  private final class Answer extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final Call call;
    private final Channel downstream;
    private final boolean keepAlive;
    private final Decision.Forward route;
    private final Duration timeout;
    private final PeakEwma.Request inFlight;
    private final Target target;
    private ScheduledFuture<?> timer;
    private boolean done;

    Answer(Call call, Channel downstream, boolean keepAlive, Decision.Forward route, Duration timeout, PeakEwma.Request inFlight,
        Target target) {
      super(false);
      this.target = target;
      this.call = call;
      this.inFlight = inFlight;
      this.downstream = downstream;
      this.keepAlive = keepAlive;
      this.route = route;
      this.timeout = timeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      timer = ctx.executor().schedule(() -> {
        if (finish(true)) {
          LOG.info("upstream of {} did not answer within {} ms (504)", route.backend().service(), timeout.toMillis());
          respond(call.flag("upstream_timeout"), downstream, keepAlive, local(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream timed out"));
          ctx.close();
        }
      }, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      if (!finish(response.status().code() >= 500)) {
        response.release();
        return;
      }
      route.responseHeaders().forEach(c -> HeaderEditor.apply(c, new Editor(response.headers())));
      response.headers().remove(HttpHeaderNames.CONNECTION);
      respond(call, downstream, keepAlive, response);
      ctx.close(); // one request per upstream stream
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (finish(true)) {
        respond(call.flag("upstream_closed"), downstream, keepAlive,
            local(HttpResponseStatus.BAD_GATEWAY, "upstream closed before answering"));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (finish(true)) {
        respond(call.flag("upstream_failed"), downstream, keepAlive, local(HttpResponseStatus.BAD_GATEWAY, "upstream failed"));
      }
      ctx.close();
    }

    /** The answer is in (or will never be): {@code error} = a 5xx, a failure or a timeout. */
    private boolean finish(boolean error) {
      if (done) {
        return false;
      }
      done = true;
      inFlight.done(); // a failure or a timeout counts as the latency it took
      outliers.observe(target.uid(), error, target.peers());
      if (timer != null) {
        timer.cancel(false);
      }
      return true;
    }
  }

  /** Writes a response downstream and records the call; then reads the next request, or ends the stream. */
  private void respond(Call call, Channel downstream, boolean keepAlive, FullHttpResponse response) {
    call.finished(response.status().code(), response.content().readableBytes());
    if (!downstream.isActive()) {
      ReferenceCountUtil.release(response);
      return;
    }
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, keepAlive);
    downstream.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
      if (!keepAlive || !f.isSuccess()) {
        downstream.close();
      } else {
        downstream.config().setAutoRead(true);
      }
    });
  }

  private static final String TRACEPARENT = "traceparent";

  /** One request's facts for its telemetry, filled in as it goes (on its event loop). */
  private final class Call {
    private final Instant start = Instant.now();
    private final long startNanos = System.nanoTime();
    private final String source;
    private final String principal;
    private final String service;
    private final String method;
    private final String authority;
    private final String path;
    private final long requestBytes;
    String route = "";
    String backend = "";
    String endpoint = "";
    String traceId = "";
    private String flag = "";
    private boolean recorded;

    Call(String source, String principal, String service, FullHttpRequest request) {
      this.source = source;
      this.principal = principal;
      this.service = service;
      this.method = request.method().name();
      String host = request.headers().get(HttpHeaderNames.HOST);
      this.authority = host == null ? "" : host;
      this.path = pathOf(request.uri());
      this.requestBytes = request.content().readableBytes();
    }

    /** Why the waypoint answered itself. */
    Call flag(String why) {
      flag = why;
      return this;
    }

    void finished(int status, long responseBytes) {
      if (recorded) {
        return;
      }
      recorded = true;
      telemetry.record(new RequestTelemetry.Entry(start, Duration.ofNanos(System.nanoTime() - startNanos), source, principal,
          method, authority, path, status, service, route, backend, endpoint, requestBytes, responseBytes, traceId, flag));
    }
  }

  /** A response made by the waypoint itself. */
  private static FullHttpResponse local(HttpResponseStatus status, String text) {
    ByteBuf body = text.isEmpty() ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    if (body.isReadable()) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    r.headers().set("x-capstan-waypoint", "local");
    return r;
  }

  private static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  /** A request head as the route table reads it. */
  private record View(FullHttpRequest request) implements RequestView {
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
      return pathOf(request.uri());
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

  /** Netty headers as a filter edits them. */
  private record Editor(HttpHeaders headers) implements HeaderEditor {
    @Override
    public void set(String name, String value) {
      headers.set(name, value);
    }

    @Override
    public void add(String name, String value) {
      headers.add(name, value);
    }

    @Override
    public void remove(String name) {
      headers.remove(name);
    }
  }
}

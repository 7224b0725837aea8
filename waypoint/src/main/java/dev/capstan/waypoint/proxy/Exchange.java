package dev.capstan.waypoint.proxy;

import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.waypoint.balance.PeakEwma;
import dev.capstan.waypoint.resilience.ResolvedPolicy;
import dev.capstan.waypoint.resilience.RetryPolicy;
import dev.capstan.waypoint.route.HeaderEditor;
import dev.capstan.waypoint.route.RouteTable.Decision;
import dev.capstan.waypoint.state.WaypointView;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request through the waypoint, streamed both ways: the request's head has been routed by
 * {@link Inbound}; its body arrives as it is read; the answer is either made here ({@link #answer})
 * or forwarded from an endpoint ({@link #forward}): an upstream app connection is leased, the
 * request goes up, the response comes down object by object. Every copy is pulled: the client's
 * stream is read only while the upstream can take more, the upstream only while the client can.
 *
 * <p>A request whose body is complete and small ({@value #REPLAY_LIMIT} bytes or less) is kept
 * until its answer starts, so a failed attempt can be tried again: once, transparently, when a
 * reused connection ended before answering (the app had closed it while it was idle).
 */
final class Exchange implements Upstream.Receiver {

  private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);
  static final int REPLAY_LIMIT = 64 * 1024;
  private static final int WAITING_LIMIT = 64 * 1024;

  /** What every exchange of a waypoint shares. */
  record Shared(Inbound.Settings settings, Supplier<WaypointView> view, Upstream upstream, PeakEwma latency,
      Supplier<SslContext> clientTls, IntUnaryOperator random, DoubleSupplier chance, Endpoints.Cache endpoints) {}

  private final Shared shared;
  private final ClientStream client;
  private final HttpRequest head;
  private final InetSocketAddress source;
  final Call call;
  private boolean keepAlive;

  // the request's body
  private final ArrayDeque<HttpContent> waiting = new ArrayDeque<>();
  private long waitingBytes;
  private final List<HttpContent> replay = new ArrayList<>();
  private long replayBytes;
  private boolean replayable = true;
  private boolean requestComplete;
  private long discarded;

  // the answer
  private boolean local;
  private boolean responseStarted;
  private boolean responseComplete;
  private boolean informational;
  private boolean finished;
  private long responseBytes;
  private int status;
  private boolean upstreamCloses;

  // the upstream
  private Decision.Forward route;
  private Upstream.Protocol protocol;
  private Upstream.Lease lease;
  private Endpoints endpoints;
  private Endpoints.Target target;
  private PeakEwma.Request inFlight;
  private Deadlines.Timeout timer;
  private boolean timerUntilHead;
  private ScheduledFuture<?> tryTimer;
  private int attempts;
  private final List<String> tried = new ArrayList<>();
  private ResolvedPolicy policy;
  private ResolvedPolicy.Admission admission;

  Exchange(Shared shared, ClientStream client, HttpRequest head, InetSocketAddress source, Call call) {
    this.shared = shared;
    this.client = client;
    this.head = head;
    this.source = source;
    this.call = call;
    this.keepAlive = HttpUtil.isKeepAlive(head);
  }

  HttpRequest head() {
    return head;
  }

  boolean requestComplete() {
    return requestComplete;
  }

  /** Whether the client speaks HTTP/2. */
  boolean clientSpeaksHttp2() {
    return client.http2();
  }

  /** Tells the client to send its body ({@code Expect: 100-continue}). */
  void continueRequest() {
    client.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
  }

  /** Whether the client's stream should be read for more of this request now. */
  boolean wantsBody() {
    if (requestComplete) {
      return false;
    }
    if (local || finished) {
      return true; // read and dropped
    }
    return lease == null ? waitingBytes < WAITING_LIMIT : lease.channel().isWritable();
  }

  // ------------------------------------------------------------------ the request's body

  /** A piece of the request's body (the last one ends it). Takes ownership of {@code content}. */
  void body(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    int n = content.content().readableBytes();
    call.requestBytes += n;
    if (last) {
      requestComplete = true;
    }
    if (local || finished) {
      content.release();
      discarded += n;
      if (discarded > shared.settings().maxBody()) {
        LOG.info("dropping the rest of a {}-byte request body from {} after a local answer: stream closed", discarded, source);
        client.close();
      } else {
        maybeDone();
      }
      return;
    }
    keepForReplay(content, n);
    if (lease == null) {
      waiting.add(content);
      waitingBytes += n;
      return;
    }
    if (last) {
      lease.channel().writeAndFlush(content);
    } else {
      lease.channel().write(content); // flushed at the end of the client's read batch
    }
  }

  /** The client's reads of this batch are done: what was written up goes out. */
  void bodyReadComplete() {
    if (lease != null) {
      lease.channel().flush();
    }
  }

  private void keepForReplay(HttpContent content, int n) {
    if (!replayable) {
      return;
    }
    replayBytes += n;
    if (replayBytes > REPLAY_LIMIT) {
      replayable = false;
      replay.forEach(ReferenceCountUtil::release);
      replay.clear();
      return;
    }
    replay.add(content.retainedDuplicate());
  }

  // ------------------------------------------------------------------ answers made here

  /** Answers with a response made by the waypoint; the rest of the request is read and dropped. */
  void answer(HttpResponseStatus answer, String text, String flag) {
    FullHttpResponse r = local(answer, text);
    answer(r, flag);
  }

  /** Answers a request that cannot be read on (the decoder refused it) and ends the stream. */
  void refuse(HttpResponseStatus answer, String text) {
    keepAlive = false;
    requestComplete = true; // nothing more of it will be read
    answer(answer, text, "bad_request");
  }

  void answer(FullHttpResponse response, String flag) {
    local = true;
    call.flag(flag);
    dropReplay();
    waiting.forEach(ReferenceCountUtil::release);
    waiting.clear();
    writeLocal(response);
  }

  private void writeLocal(FullHttpResponse response) {
    status = response.status().code();
    responseBytes = response.content().readableBytes();
    responseStarted = true;
    responseComplete = true;
    if (!client.isActive()) {
      response.release();
      finish();
      return;
    }
    if (!client.http2()) {
      HttpUtil.setContentLength(response, response.content().readableBytes());
      HttpUtil.setKeepAlive(response, keepAlive && requestComplete);
    }
    client.writeAndFlush(response);
    maybeDone();
  }

  /** A response made by the waypoint itself. */
  static FullHttpResponse local(HttpResponseStatus status, String text) {
    ByteBuf body = text.isEmpty() ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    if (body.isReadable()) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    r.headers().set("x-capstan-waypoint", "local");
    return r;
  }

  // ------------------------------------------------------------------ forwarding

  /**
   * Sends the request to a healthy endpoint of the route's backend, as {@code protocol}: the head
   * rewritten as the route says, the body as it comes.
   */
  void forward(Decision.Forward decision, WaypointView view, Upstream.Protocol protocol, ResolvedPolicy policy) {
    this.route = decision;
    this.protocol = protocol;
    this.policy = policy;
    call.route = decision.route();
    call.backend = decision.backend().service();
    String query = head.uri().indexOf('?') < 0 ? "" : head.uri().substring(head.uri().indexOf('?'));
    head.setUri(decision.path() + query);
    if (decision.authority() != null) {
      head.headers().set(HttpHeaderNames.HOST, decision.authority());
    }
    decision.requestHeaders().forEach(c -> HeaderEditor.apply(c, new Editor(head.headers())));
    HopByHop.strip(head.headers());
    if (protocol == Upstream.Protocol.HTTP1) {
      head.headers().remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
      HttpUtil.setKeepAlive(head, true);
    } else if (!head.headers().contains(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text())) {
      head.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
    }
    Duration whole = decision.timeouts().request();
    timerUntilHead = whole == null; // the waypoint's default bounds the wait for an answer; a route's, the whole exchange
    Duration limit = whole != null ? whole : shared.settings().defaultTimeout();
    timer = Deadlines.on(client.eventLoop(), limit.toNanos()).start(this::timedOut);
    // The backend's TrafficPolicy: local rate limit (429), injected faults, concurrency limit (503).
    ResolvedPolicy.Admission admitted = policy.admit(shared.chance());
    if (admitted.verdict() == ResolvedPolicy.Verdict.FORWARD) {
      admission = admitted;
    }
    if (admitted.flag() != null) {
      call.flag(admitted.flag());
    }
    Runnable next = switch (admitted.verdict()) {
      case RATE_LIMITED -> () -> answer(HttpResponseStatus.TOO_MANY_REQUESTS, "local rate limit of " + call.backend, "rate_limited");
      case OVERFLOW -> () -> answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many requests in flight to " + call.backend, "overflow");
      case FAULT_ABORT -> () -> answer(HttpResponseStatus.valueOf(admitted.status()), "fault filter abort", "fault_abort");
      case FORWARD -> () -> attempt(view);
    };
    if (admitted.delayNanos() > 0) {
      client.eventLoop().schedule(() -> {
        if (!finished) {
          next.run();
        }
      }, admitted.delayNanos(), TimeUnit.NANOSECONDS);
    } else {
      next.run();
    }
  }

  private void attempt(WaypointView view) {
    attempts++;
    Endpoints.Target t = pick(view, route.backend());
    if (t == null) {
      fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "no healthy endpoint of " + route.backend().service(), "no_healthy_endpoint");
      return;
    }
    target = t;
    tried.add(t.uid());
    call.endpoint = t.authority();
    inFlight = shared.latency().start(t.uid());
    long perTry = policy.retry().perTryTimeoutNanos();
    if (perTry > 0) {
      int attempt = attempts;
      tryTimer = client.eventLoop().schedule(() -> tryTimedOut(attempt), perTry, TimeUnit.NANOSECONDS);
    }
    InetAddress from = source.getAddress();
    Upstream.AppKey key = new Upstream.AppKey(new Upstream.Key(t.identity(), t.agent()), t.address(), from, protocol);
    shared.upstream().lease(client.eventLoop(), key, shared.clientTls().get(), this).addListener(f -> {
      if (!f.isSuccess()) {
        endAttempt(true);
        if (finished) {
          return;
        }
        LOG.warn("upstream {} for {} failed: {}", t.address(), route.backend().service(), f.cause().getMessage());
        if (!retried(RetryPolicy.Outcome.failure(RetryPolicy.Failure.CONNECT_FAILURE))) {
          fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "upstream connect failed", "upstream_connect_failed");
        }
        return;
      }
      Upstream.Lease l = (Upstream.Lease) f.getNow();
      if (finished || !client.isActive()) {
        // The client left (or reset its stream) while the upstream opened: no work for the backend.
        l.release(true);
        endAttempt(false);
        if (!finished) {
          clientGone();
        }
        return;
      }
      lease = l;
      send();
    });
  }

  /** Writes the head and what there is of the body (kept copies on a retry) to the leased channel. */
  private void send() {
    Channel up = lease.channel();
    up.write(head);
    if (attempts > 1) {
      for (HttpContent c : replay) {
        up.write(c.retainedDuplicate());
      }
    } else {
      while (!waiting.isEmpty()) {
        up.write(waiting.poll());
      }
      waitingBytes = 0;
    }
    up.flush();
    up.read();
    client.demand();
  }

  @Override
  public void received(HttpObject msg) {
    if (finished || responseComplete) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      int code = response.status().code();
      if (code >= 100 && code < 200 && code != 101) {
        informational = true; // 1xx: not the answer (the waypoint asked for no 100-continue)
        ReferenceCountUtil.release(msg);
        return;
      }
      informational = false;
      cancelTryTimer();
      if (policy.retry().retryable(RetryPolicy.Outcome.status(code))) {
        // A status the policy retries: if a retry is allowed, this answer is dropped and its connection closed.
        boolean retrying = retried(RetryPolicy.Outcome.status(code), () -> {
          Upstream.Lease was = lease;
          lease = null;
          was.release(false);
          endAttempt(code >= 500);
        });
        if (retrying) {
          ReferenceCountUtil.release(msg);
          return;
        }
      }
      status = code;
      responseStarted = true;
      dropReplay();
      if (timerUntilHead && timer != null) {
        timer.cancel();
        timer = null;
      }
      upstreamCloses = protocol == Upstream.Protocol.HTTP1 && !HttpUtil.isKeepAlive(response);
      route.responseHeaders().forEach(c -> HeaderEditor.apply(c, new Editor(response.headers())));
      HopByHop.strip(response.headers());
      response.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
      if (!client.http2()) {
        frameForHttp1(response);
      }
      response.setProtocolVersion(HttpVersion.HTTP_1_1);
    } else if (informational) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpContent c) {
      responseBytes += c.content().readableBytes();
    }
    boolean last = msg instanceof LastHttpContent;
    if (!client.isActive()) {
      ReferenceCountUtil.release(msg);
      clientGone();
      return;
    }
    if (last) {
      responseComplete = true;
      client.writeAndFlush(msg);
      endAttempt(status >= 500);
      lease.release(requestComplete && !upstreamCloses);
      lease = null;
      maybeDone();
    } else {
      client.write(msg);
    }
  }

  /** HTTP/1.1 to the client: a response must say where it ends. */
  private void frameForHttp1(HttpResponse response) {
    HttpUtil.setKeepAlive(response, keepAlive);
    if (response instanceof FullHttpResponse full) {
      HttpUtil.setContentLength(response, full.content().readableBytes());
      return;
    }
    int code = response.status().code();
    boolean empty = code == 204 || code == 304 || head.method().equals(HttpMethod.HEAD);
    if (!empty && !HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response)) {
      response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
  }

  @Override
  public void readComplete() {
    client.flush();
    if (lease != null && !responseComplete && client.isWritable()) {
      lease.channel().read();
    }
  }

  @Override
  public void writable() {
    client.demand();
  }

  /** The client can take more of the response. */
  void clientWritable() {
    if (lease != null && !responseComplete) {
      lease.channel().read();
    }
  }

  @Override
  public void ended(Throwable cause) {
    if (finished || responseComplete) {
      return;
    }
    Upstream.Lease was = lease;
    lease = null;
    if (was != null) {
      was.release(false);
    }
    endAttempt(true);
    if (!responseStarted && retried(RetryPolicy.Outcome.failure(RetryPolicy.Failure.RESET))) {
      return;
    }
    if (!responseStarted && was != null && was.reused() && attempts == 1 && requestComplete && replayable) {
      LOG.debug("reused upstream connection to {} ended before answering: trying again", call.endpoint);
      attempt(shared.view().get());
      return;
    }
    if (!responseStarted) {
      if (cause != null) {
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream failed", "upstream_failed");
      } else {
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream closed before answering", "upstream_closed");
      }
      return;
    }
    // The answer had started: the client cannot be told; its stream ends short.
    LOG.info("upstream {} of {} ended mid-response: client stream closed", call.endpoint, call.backend);
    call.flag("upstream_reset");
    abortClient();
  }

  private void timedOut() {
    timer = null;
    if (finished) {
      return;
    }
    if (lease != null) {
      Upstream.Lease was = lease;
      lease = null;
      was.release(false);
      endAttempt(true);
    }
    if (!responseStarted) {
      LOG.info("upstream of {} did not answer in time (504)", call.backend);
      fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream timed out", "upstream_timeout");
    } else {
      LOG.info("response of {} not complete in time: client stream closed", call.backend);
      call.flag("upstream_timeout");
      abortClient();
    }
  }

  /** The client left or reset its stream: the upstream side is dropped. */
  void clientGone() {
    if (finished) {
      return;
    }
    if (lease != null) {
      Upstream.Lease was = lease;
      lease = null;
      was.release(false);
      endAttempt(false);
    }
    if (!responseComplete) {
      call.flag("client_gone");
      status = 499;
    }
    finish();
  }

  private void fail(HttpResponseStatus answer, String text, String flag) {
    if (responseStarted) {
      abortClient();
      return;
    }
    answer(answer, text, flag);
  }

  private void abortClient() {
    if (status == 0) {
      status = 502;
    }
    keepAlive = false;
    finish();
    client.close();
  }

  private void endAttempt(boolean error) {
    if (inFlight != null) {
      inFlight.done(); // a failure or a timeout counts as the latency it took
      inFlight = null;
      policy.outliers().ifPresent(o -> o.observe(target.uid(), error, endpoints.uids()));
    }
  }

  /** The answer is written and the request read: the exchange is over. */
  private void maybeDone() {
    if (finished || !responseComplete) {
      return;
    }
    if (!requestComplete) {
      if (local) {
        return; // a local answer: the rest is read and dropped, then the next request
      }
      // The endpoint answered before the whole request: the rest is not read (HTTP/2: the stream
      // is reset with NO_ERROR after the answer; HTTP/1.1: the connection closes after it).
      keepAlive = false;
    }
    finish();
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (timer != null) {
      timer.cancel();
      timer = null;
    }
    cancelTryTimer();
    if (admission != null) {
      policy.release(admission);
      admission = null;
    }
    dropReplay();
    waiting.forEach(ReferenceCountUtil::release);
    waiting.clear();
    call.finished(status == 0 ? 499 : status, responseBytes);
    client.done(this, keepAlive && requestComplete);
  }

  private void dropReplay() {
    replay.forEach(ReferenceCountUtil::release);
    replay.clear();
    replayable = false;
  }

  /**
   * Asks the TrafficPolicy whether to try again after the current try ended with {@code outcome}
   * (the request whole and kept: at most {@value #REPLAY_LIMIT} bytes); if so, the next try starts
   * after the backoff.
   */
  private boolean retried(RetryPolicy.Outcome outcome) {
    return retried(outcome, () -> { });
  }

  /** As above; {@code giveUp} ends the current try first, only when there is a retry. */
  private boolean retried(RetryPolicy.Outcome outcome, Runnable giveUp) {
    if (finished || responseStarted) {
      return false;
    }
    RetryPolicy.Decision decision = policy.afterTry(attempts, outcome, requestComplete && replayable, shared.chance());
    if (!decision.retry()) {
      if (attempts > 1 || decision.reason() != RetryPolicy.Reason.NOT_RETRYABLE) {
        LOG.debug("{} to {}: not retried after try {} ({})", call.backend, call.endpoint, attempts, decision.reason());
      }
      return false;
    }
    giveUp.run();
    call.flag("retried");
    LOG.debug("{} to {} ended with {}: try {} in {} µs", call.backend, call.endpoint, outcome, attempts + 1,
        decision.backoffNanos() / 1000);
    client.eventLoop().schedule(() -> {
      if (!finished) {
        attempt(shared.view().get());
      }
    }, decision.backoffNanos(), TimeUnit.NANOSECONDS);
    return true;
  }

  /** The try took longer than the policy's per-try timeout without an answer. */
  private void tryTimedOut(int attempt) {
    tryTimer = null;
    if (finished || responseStarted || attempt != attempts) {
      return;
    }
    Upstream.Lease was = lease;
    lease = null;
    if (was != null) {
      was.release(false);
    }
    endAttempt(true);
    if (!retried(RetryPolicy.Outcome.failure(RetryPolicy.Failure.PER_TRY_TIMEOUT))) {
      LOG.info("upstream {} of {} did not answer within the per-try timeout (504)", call.endpoint, call.backend);
      fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream timed out (per try)", "upstream_timeout");
    }
  }

  private void cancelTryTimer() {
    if (tryTimer != null) {
      tryTimer.cancel(false);
      tryTimer = null;
    }
  }

  // ------------------------------------------------------------------ choosing the endpoint

  /** An endpoint of the backend ({@link Endpoints#pick}); a retry prefers one not tried yet. */
  private Endpoints.Target pick(WaypointView current, Backend backend) {
    endpoints = shared.endpoints().get(current, backend.service(), backend.port());
    return endpoints.pick(policy, shared.random(), attempts > 1 ? tried : List.of());
  }

  /** Netty headers as a filter edits them. */
  record Editor(HttpHeaders headers) implements HeaderEditor {
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

  /** The last piece of a request that arrived whole (an HTTP/2 request ending with its headers). */
  static LastHttpContent lastOf(ByteBuf content, HttpHeaders trailers) {
    DefaultLastHttpContent last = new DefaultLastHttpContent(content);
    last.trailingHeaders().set(trailers);
    return last;
  }
}

package dev.capstan.waypoint.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 server inside a tunnel, from frames: each inner stream is one request, handed to its
 * {@link Exchange} as HTTP objects and answered as HEADERS and DATA frames written straight to
 * the connection. No channel, pipeline or frame objects per stream (Netty's multiplex codec made
 * all three per request, most of the hop's cost).
 *
 * <p>Backpressure: a request's DATA is acknowledged to the client's flow-control window only
 * while its exchange wants more body, so the client sends no faster than the upstream takes it;
 * the response is read from the upstream only while the stream's send window and the tunnel can
 * take it ({@link ClientStream#isWritable}, {@link Exchange#clientWritable}).
 *
 * <p>Bounded as Netty's codec bounds it: the head size is announced
 * (SETTINGS_MAX_HEADER_LIST_SIZE) and enforced by the decoder (CONTINUATION included), at most
 * 100 concurrent streams, and more than 200 streams reset by the client in 30 s (rapid reset)
 * ends the connection. A connection error ends the connection with GOAWAY and its RFC 9113 code,
 * reported to {@link ConnectionErrors}.
 */
final class Http2Requests extends Http2ConnectionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(Http2Requests.class);

  /** Where connection errors (the client broke the protocol: GOAWAY sent) are counted and logged. */
  interface ConnectionErrors {
    void connectionError(Http2Error error, String detail);
  }

  private final RequestReader.Starter starter;
  private final ConnectionErrors errors;
  private final Http2Connection.PropertyKey key;
  /** Streams that were given body in the current read batch: their upstream writes are flushed at its end. */
  private final List<Stream> readInBatch = new ArrayList<>();
  private ChannelHandlerContext ctx;

  /** A server for one tunnel: heads up to {@code maxHeaderSize} bytes, at most 100 concurrent streams. */
  static Http2Requests create(RequestReader.Starter starter, int maxHeaderSize, ConnectionErrors errors) {
    return new Builder(starter, errors, Http2Settings.defaultSettings().maxHeaderListSize(maxHeaderSize).maxConcurrentStreams(100))
        .build();
  }

  private Http2Requests(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings,
      RequestReader.Starter starter, ConnectionErrors errors) {
    super(decoder, encoder, settings);
    this.starter = starter;
    this.errors = errors;
    this.key = connection().newKey();
    connection().addListener(new Http2ConnectionAdapter() {
      @Override
      public void onStreamClosed(Http2Stream stream) {
        Stream s = stream.removeProperty(key);
        if (s != null) {
          s.closed();
        }
      }
    });
    encoder.flowController().listener(stream -> {
      Stream s = stream.getProperty(key);
      if (s != null) {
        s.writabilityChanged();
      }
    });
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    this.ctx = ctx;
    super.handlerAdded(ctx);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    for (int i = 0; i < readInBatch.size(); i++) {
      readInBatch.get(i).readComplete();
    }
    readInBatch.clear();
    super.channelReadComplete(ctx); // flushes
  }

  @Override
  protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
    if (!outbound) {
      Http2Exception e = http2Ex != null ? http2Ex : Http2CodecUtil.getEmbeddedHttp2Exception(cause);
      errors.connectionError(e == null ? Http2Error.INTERNAL_ERROR : e.error(), String.valueOf(cause.getMessage()));
    }
    super.onConnectionError(ctx, outbound, cause, http2Ex);
  }

  /** The client's frames: heads start exchanges, DATA and trailers go to them. */
  private final class Frames extends Http2FrameAdapter {
    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
        short weight, boolean exclusive, int padding, boolean endOfStream) throws Http2Exception {
      onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endOfStream)
        throws Http2Exception {
      Http2Stream stream = connection().stream(streamId);
      if (stream == null) {
        return;
      }
      Stream s = stream.getProperty(key);
      if (s != null) { // trailers end the request
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        HttpConversionUtil.addHttp2ToHttpHeaders(streamId, headers, last.trailingHeaders(), HttpVersion.HTTP_1_1, true, true);
        s.body(last, 0);
        return;
      }
      HttpRequest head;
      try {
        head = HttpConversionUtil.toHttpRequest(streamId, headers, true);
      } catch (Http2Exception e) {
        throw e;
      } catch (RuntimeException e) { // e.g. no :method
        throw Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR, e, "bad request head: %s", e.getMessage());
      }
      head.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
      if (!endOfStream && !HttpUtil.isContentLengthSet(head)) {
        head.headers().add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED); // HTTP/1.1 upstreams: a body of unknown length
      }
      s = new Stream(stream);
      stream.setProperty(key, s);
      Exchange exchange = starter.open(s, head);
      s.exchange = exchange;
      if (endOfStream) {
        exchange.body(LastHttpContent.EMPTY_LAST_CONTENT);
      }
      starter.route(exchange);
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
      int n = data.readableBytes() + padding;
      Http2Stream stream = connection().stream(streamId);
      Stream s = stream == null ? null : stream.getProperty(key);
      if (s == null || s.exchange == null) {
        return n; // nobody reads it: acknowledged and dropped
      }
      HttpContent content = endOfStream ? new DefaultLastHttpContent(data.retain()) : new DefaultHttpContent(data.retain());
      return s.body(content, n);
    }
  }

  /** One inner stream: one request and its answer. */
  private final class Stream implements ClientStream {
    private final Http2Stream stream;
    private Exchange exchange;
    /** Bytes of DATA received and not yet given back to the client's window (the exchange wanted no more). */
    private int unconsumed;
    private boolean inBatch;
    private boolean responseEnded;
    private boolean closed;

    Stream(Http2Stream stream) {
      this.stream = stream;
    }

    /** Gives {@code content} ({@code n} bytes of flow-controlled DATA) to the exchange; returns the bytes acknowledged now. */
    int body(HttpContent content, int n) {
      Exchange e = exchange;
      if (e == null) {
        content.release();
        return n;
      }
      e.body(content);
      if (!inBatch && exchange != null) {
        inBatch = true;
        readInBatch.add(this);
      }
      if (exchange == null || closed || e.wantsBody()) {
        return n;
      }
      unconsumed += n;
      return 0;
    }

    void readComplete() {
      inBatch = false;
      if (exchange != null) {
        exchange.bodyReadComplete();
      }
    }

    @Override
    public boolean http2() {
      return true;
    }

    @Override
    public EventLoop eventLoop() {
      return ctx.channel().eventLoop();
    }

    @Override
    public boolean isActive() {
      return !closed && ctx.channel().isActive();
    }

    @Override
    public boolean isWritable() {
      return !closed && encoder().flowController().isWritable(stream);
    }

    @Override
    public void write(HttpObject msg) {
      if (closed) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof HttpResponse response) {
        boolean interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL && response.status().code() != 101;
        boolean ends = !interim && msg instanceof FullHttpMessage full && !full.content().isReadable()
            && full.trailingHeaders().isEmpty();
        // Not validated again: every name in the answer was validated as it was set (the upstream's
        // HTTP/1.1 decoder, the route's header filters on validating HttpHeaders), and the
        // conversion lower-cases them and drops the connection-specific ones.
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
        encoder().writeHeaders(ctx, stream.id(), headers, 0, ends, ctx.newPromise());
        if (interim || ends) {
          responseEnded |= ends;
          ReferenceCountUtil.release(msg);
          return;
        }
      }
      if (msg instanceof LastHttpContent last) {
        responseEnded = true;
        boolean trailers = !last.trailingHeaders().isEmpty();
        if (last.content().isReadable() || (!trailers && !(last instanceof FullHttpResponse))) {
          encoder().writeData(ctx, stream.id(), last.content(), 0, !trailers, ctx.newPromise());
        } else {
          last.release();
        }
        if (trailers) {
          encoder().writeHeaders(ctx, stream.id(), HttpConversionUtil.toHttp2Headers(last.trailingHeaders(), true), 0, true,
              ctx.newPromise());
        }
      } else if (msg instanceof HttpContent content) {
        encoder().writeData(ctx, stream.id(), content.content(), 0, false, ctx.newPromise());
      }
    }

    @Override
    public void flush() {
      Http2Requests.this.flush(ctx);
    }

    @Override
    public void close() {
      reset(Http2Error.CANCEL);
    }

    private void reset(Http2Error error) {
      if (closed) {
        return;
      }
      resetStream(ctx, stream.id(), error.code(), ctx.newPromise());
      Http2Requests.this.flush(ctx);
    }

    @Override
    public void demand() {
      Exchange e = exchange;
      if (unconsumed == 0 || closed || e == null || !e.wantsBody()) {
        return;
      }
      int n = unconsumed;
      unconsumed = 0;
      try {
        connection().local().flowController().consumeBytes(stream, n);
        Http2Requests.this.flush(ctx); // the WINDOW_UPDATE
      } catch (Http2Exception ex) {
        onError(ctx, false, ex);
      }
    }

    @Override
    public void done(Exchange e, boolean keepAlive) {
      if (exchange != e) {
        return;
      }
      exchange = null;
      if (closed) {
        return;
      }
      if (!responseEnded) {
        reset(Http2Error.CANCEL); // the answer cannot be completed
      } else if (stream.state().remoteSideOpen()) {
        reset(Http2Error.NO_ERROR); // answered before the whole request: the client is told to stop sending
      }
      // else both sides have ended: the stream closes when the answer has gone out
    }

    /** The stream closed: reset by the client, ended both ways, or the tunnel ended. */
    void closed() {
      closed = true;
      Exchange e = exchange;
      exchange = null;
      if (e == null) {
        return;
      }
      if (responseEnded) {
        // Closed by the answer's own end (the exchange finishes as that write returns), or reset by
        // the client while the rest of its body was being dropped: afterwards, either way.
        ctx.channel().eventLoop().execute(e::clientGone);
      } else {
        e.clientGone();
      }
    }

    void writabilityChanged() {
      if (exchange != null && isWritable()) {
        exchange.clientWritable();
      }
    }

    @Override
    public String toString() {
      return ctx.channel() + " stream " + stream.id();
    }
  }

  private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2Requests, Builder> {
    private final RequestReader.Starter starter;
    private final ConnectionErrors errors;

    Builder(RequestReader.Starter starter, ConnectionErrors errors, Http2Settings settings) {
      this.starter = starter;
      this.errors = errors;
      server(true);
      initialSettings(settings);
      decoderEnforceMaxRstFramesPerWindow(200, 30);
    }

    @Override
    public Http2Requests build() {
      return super.build();
    }

    @Override
    protected Http2Requests build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      Http2Requests handler = new Http2Requests(decoder, encoder, settings, starter, errors);
      frameListener(handler.new Frames());
      return handler;
    }
  }
}

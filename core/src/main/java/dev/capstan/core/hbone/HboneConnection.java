package dev.capstan.core.hbone;

import dev.capstan.core.hbone.HboneException.Kind;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Dial;
import dev.capstan.core.io.Hold;
import dev.capstan.core.identity.SpiffeVerificationException;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.io.BufferAccount;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The client side of one HBONE connection: mutual TLS to a peer that must prove {@code
 * expectedPeer}, then any number of CONNECT streams. Not thread-safe: use it on its channel's
 * event loop.
 */
public final class HboneConnection {

  private final Channel channel;
  private final Http2FrameCodec codec;
  private final SpiffeId peer;
  private int activeStreams;
  private long idleSinceNanos = System.nanoTime();

  private HboneConnection(Channel channel, Http2FrameCodec codec, SpiffeId peer) {
    this.channel = channel;
    this.codec = codec;
    this.peer = peer;
  }

  /**
   * Dials {@code remote}, handshakes as the identity of {@code tls} and checks the peer is {@code
   * expectedPeer}. The bootstrap decides the event loop, channel type and socket options.
   */
  public static Future<HboneConnection> connect(
      Bootstrap bootstrap, InetSocketAddress remote, SslContext tls, SpiffeId expectedPeer, HboneSettings settings) {
    return connect(bootstrap, remote, tls, expectedPeer, settings, BufferAccount.UNLIMITED);
  }

  /**
   * {@link #connect(Bootstrap, InetSocketAddress, SslContext, SpiffeId, HboneSettings)}, charging the
   * DATA that waits in the connection's streams to {@code queued} ({@link QueuedData}), which is
   * closed with the connection.
   */
  public static Future<HboneConnection> connect(
      Bootstrap bootstrap, InetSocketAddress remote, SslContext tls, SpiffeId expectedPeer, HboneSettings settings,
      BufferAccount queued) {
    Bootstrap b = bootstrap.clone();
    EventLoop loop = b.config().group().next();
    Promise<HboneConnection> promise = loop.newPromise();
    b.handler(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            SslHandler ssl = tls.newHandler(ch.alloc());
            ssl.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
            ch.pipeline().addLast("tls", ssl);
            ch.pipeline().addLast("hold", new Hold());
            ch.pipeline().addLast("hbone-handshake", new ClientHandshake(expectedPeer, settings, queued, promise));
          }
        });
    Dial.connect(loop, b, remote, null)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                promise.tryFailure(
                    new HboneException(Kind.CONNECT_FAILED,
                        "cannot reach HBONE peer " + remote + ": " + HandshakeFailures.describe(f.cause())
                            + " (is port " + remote.getPort() + " open, or a NetworkPolicy blocking HBONE?)"));
              }
            });
    return promise;
  }

  public Channel channel() {
    return channel;
  }

  public SpiffeId peer() {
    return peer;
  }

  public int activeStreams() {
    return activeStreams;
  }

  /** {@link System#nanoTime()} when the last stream ended (or the connection opened). */
  public long idleSinceNanos() {
    return idleSinceNanos;
  }

  private void streamEnded() {
    if (--activeStreams == 0) {
      idleSinceNanos = System.nanoTime();
    }
  }

  /** Whether a new stream may be opened here: open, no GOAWAY, under both sides' stream limits. */
  public boolean acceptsStreams(int maxStreams) {
    return channel.isActive()
        && !codec.connection().goAwayReceived()
        && activeStreams < maxStreams
        && codec.connection().local().canOpenStream();
  }

  /**
   * Opens a CONNECT stream to {@code authority}. The future completes when the peer answers 200;
   * the stream then has auto-read off and nothing in its pipeline.
   */
  public Future<Http2StreamChannel> open(String authority, Map<? extends CharSequence, ? extends CharSequence> extraHeaders) {
    Promise<Http2StreamChannel> promise = channel.eventLoop().newPromise();
    activeStreams++;
    new Http2StreamChannelBootstrap(channel)
        .option(io.netty.channel.ChannelOption.AUTO_READ, true)
        .handler(new ChannelInitializer<Http2StreamChannel>() {
          @Override
          protected void initChannel(Http2StreamChannel stream) {
            OpenStreams.track(stream);
            QueuedData.register(stream);
            stream.pipeline().addLast(new TunnelResponse(promise));
          }
        })
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                streamEnded();
                promise.tryFailure(new HboneException(Kind.STREAM_FAILED,
                    "cannot open HBONE stream: " + HandshakeFailures.describe(f.cause())));
                return;
              }
              Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
              stream.closeFuture().addListener(c -> streamEnded());
              Http2Headers headers = new DefaultHttp2Headers().method("CONNECT").authority(authority);
              extraHeaders.forEach(headers::add);
              stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false)).addListener(w -> {
                if (!w.isSuccess()) {
                  promise.tryFailure(new HboneException(Kind.STREAM_FAILED,
                      "cannot send CONNECT: " + HandshakeFailures.describe(w.cause())));
                  stream.close();
                }
              });
            });
    return promise;
  }

  /** Closes the connection; its streams are reset. */
  public void close() {
    channel.close();
  }

  private static final class ClientHandshake extends ChannelInboundHandlerAdapter {
    private final SpiffeId expectedPeer;
    private final HboneSettings settings;
    private final BufferAccount queued;
    private final Promise<HboneConnection> promise;

    ClientHandshake(SpiffeId expectedPeer, HboneSettings settings, BufferAccount queued, Promise<HboneConnection> promise) {
      this.expectedPeer = expectedPeer;
      this.settings = settings;
      this.queued = queued;
      this.promise = promise;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (!(evt instanceof SslHandshakeCompletionEvent done)) {
        ctx.fireUserEventTriggered(evt);
        return;
      }
      if (!done.isSuccess()) {
        fail(ctx, Kind.HANDSHAKE_FAILED,
            "TLS handshake with " + ctx.channel().remoteAddress() + " failed ("
                + HandshakeFailures.reason(done.cause()) + "): " + HandshakeFailures.describe(done.cause()));
        return;
      }
      Handshakes.Outcome outcome = Handshakes.check(ctx);
      if (outcome instanceof Handshakes.Outcome.Refused refused) {
        fail(ctx, "no_alpn_h2".equals(refused.reason()) ? Kind.NO_ALPN_H2 : Kind.HANDSHAKE_FAILED, refused.message());
        return;
      }
      SpiffeId peer = ((Handshakes.Outcome.Peer) outcome).identity();
      if (!peer.equals(expectedPeer)) {
        fail(ctx, Kind.WRONG_PEER_IDENTITY,
            "HBONE peer " + ctx.channel().remoteAddress() + " is " + peer + ", expected " + expectedPeer);
        return;
      }
      Http2FrameCodec codec = Hbone.codec(false, settings);
      Handshakes.installHttp2(ctx, codec, new RefusePushedStreams(), settings, queued);
      if (!promise.trySuccess(new HboneConnection(ctx.channel(), codec, peer))) {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      promise.tryFailure(new HboneException(Kind.HANDSHAKE_FAILED,
          "HBONE peer " + ctx.channel().remoteAddress() + " closed the connection during the handshake"));
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(ctx, Kind.HANDSHAKE_FAILED, "HBONE connection failed: " + HandshakeFailures.describe(cause));
    }

    private void fail(ChannelHandlerContext ctx, Kind kind, String message) {
      promise.tryFailure(new HboneException(kind, message));
      ctx.close();
    }
  }

  @ChannelHandler.Sharable
  private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }

  /** Waits for the answer to CONNECT: 200 opens the tunnel, anything else fails it. */
  private static final class TunnelResponse extends ChannelInboundHandlerAdapter {
    private final Promise<Http2StreamChannel> promise;

    TunnelResponse(Promise<Http2StreamChannel> promise) {
      this.promise = promise;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
      if (msg instanceof Http2HeadersFrame frame) {
        CharSequence status = frame.headers().status();
        if (status != null && "200".contentEquals(status) && !frame.isEndStream()) {
          stream.config().setAutoRead(false);
          ctx.pipeline().remove(this);
          if (!promise.trySuccess(stream)) {
            stream.close();
          }
          return;
        }
        int code = parseStatus(status);
        promise.tryFailure(new HboneException(Kind.REJECTED, code, "HBONE peer answered " + status));
        stream.close();
        return;
      }
      if (msg instanceof Http2ResetFrame reset) {
        promise.tryFailure(new HboneException(Kind.STREAM_FAILED, "HBONE stream reset: " + reset.errorCode()));
      }
      ReferenceCountUtil.release(msg);
      stream.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2ResetFrame reset) {
        promise.tryFailure(new HboneException(Kind.STREAM_FAILED,
            "HBONE peer reset the stream before answering (HTTP/2 error " + reset.errorCode() + ")"));
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      promise.tryFailure(new HboneException(Kind.STREAM_FAILED, "HBONE stream closed before an answer"));
      ctx.fireChannelInactive();
    }

    private static int parseStatus(CharSequence status) {
      try {
        return status == null ? 0 : Integer.parseInt(status.toString());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
  }
}

package dev.capstan.waypoint.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds how long a request head may take to arrive: the clock starts at its first byte and stops
 * when the head is read ({@link #arrived}); past the limit the client gets 408 and the stream ends.
 * A slow client holds only its own stream, never the event loop. (The body then comes at the pace
 * the upstream takes it, bounded by the route's timeout.)
 */
final class SlowRequest extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(SlowRequest.class);

  private final Duration limit;
  private ScheduledFuture<?> timer;
  private boolean armed = true;

  SlowRequest(Duration limit) {
    this.limit = limit;
  }

  /** The request head on {@code channel} is in: stops its clock. */
  static void arrived(Channel channel) {
    SlowRequest handler = channel.pipeline().get(SlowRequest.class);
    if (handler != null) {
      handler.armed = false;
      handler.stop();
    }
  }

  /** The next request's first byte starts the clock again (HTTP/1.1 keep-alive). */
  static void next(Channel channel) {
    SlowRequest handler = channel.pipeline().get(SlowRequest.class);
    if (handler != null) {
      handler.armed = true;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (armed && timer == null && msg instanceof ByteBuf buf && buf.isReadable()) {
      timer = ctx.executor().schedule(() -> timedOut(ctx), limit.toNanos(), TimeUnit.NANOSECONDS);
    }
    ctx.fireChannelRead(msg);
  }

  private void timedOut(ChannelHandlerContext ctx) {
    timer = null;
    LOG.warn("request on {} not complete after {} ms: 408, stream closed", ctx.channel(), limit.toMillis());
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT,
        Unpooled.copiedBuffer("request not received in time\n", StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, false);
    // Written from here, past the decoder: the encoder after it still sees the response.
    ctx.pipeline().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop(); // HTTP/2 takes over the stream: its requests are timed per inner stream, not here
  }

  private void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}

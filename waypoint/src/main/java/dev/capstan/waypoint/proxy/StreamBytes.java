package dev.capstan.waypoint.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CoalescingBufferQueue;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;

/**
 * Makes an HBONE stream look like a socket to the HTTP codecs above it: DATA in becomes bytes in,
 * END_STREAM becomes end of input ({@link ChannelInputShutdownEvent}), bytes out become DATA, and
 * closing sends END_STREAM first so the peer sees a clean end rather than a reset.
 *
 * <p>The bytes written between two flushes go out as one DATA frame: a codec writes a message as
 * several buffers (an inner HTTP/2 answer is a HEADERS frame, a DATA frame header and its payload),
 * and each had become a frame of the tunnel with its own header, promise and TLS record share.
 * Queued bytes count against the stream's writability as written bytes do.
 */
final class StreamBytes extends ChannelDuplexHandler {

  private boolean ended;
  private CoalescingBufferQueue pending;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    pending = new CoalescingBufferQueue(ctx.channel(), 4, true);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    pending.releaseAndFailAll(new ClosedChannelException());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pending.releaseAndFailAll(new ClosedChannelException());
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2DataFrame frame) {
      ByteBuf content = frame.content();
      boolean end = frame.isEndStream();
      if (content.isReadable()) {
        ctx.fireChannelRead(content); // the frame's buffer: whoever reads it releases it
      } else {
        frame.release();
      }
      if (end) {
        ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      }
    } else if (msg instanceof Http2HeadersFrame headers) {
      if (headers.isEndStream()) {
        ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof Http2ResetFrame) {
      ended = true; // the peer is gone: nothing more to send
      ctx.close();
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      pending.add(buf, promise);
    } else {
      writePending(ctx);
      ctx.write(msg, promise);
    }
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    writePending(ctx);
    ctx.flush();
  }

  /** What was written since the last flush, as one DATA frame. */
  private void writePending(ChannelHandlerContext ctx) {
    if (pending.isEmpty()) {
      return;
    }
    ChannelPromise all = ctx.newPromise();
    ByteBuf bytes = pending.remove(pending.readableBytes(), all);
    ctx.write(new DefaultHttp2DataFrame(bytes, false), all);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (ended || !ctx.channel().isActive()) {
      ctx.close(promise);
      return;
    }
    ended = true;
    writePending(ctx);
    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true))
        .addListener((ChannelFutureListener) f -> ctx.close(promise));
  }
}

package dev.capstan.core.io;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Keeps what a socket delivers before its splice starts: bytes, and the end of input. A socket
 * with auto-read off can still be read once by the transport (epoll reads when the peer half-closes),
 * so a client that sends and closes before the tunnel is open would otherwise lose its bytes.
 * Installed first in the pipeline of every proxied socket; {@link Splice} replays and removes it.
 */
public final class Hold extends ChannelInboundHandlerAdapter {

  private final ArrayDeque<Object> held = new ArrayDeque<>(2);
  private boolean inputShutdown;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    held.add(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    // Held back with the bytes.
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      inputShutdown = true;
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  /** Passes everything held to the handlers after this one, then leaves the pipeline. */
  void replay(ChannelHandlerContext ctx) {
    Object msg;
    boolean any = false;
    while ((msg = held.poll()) != null) {
      ctx.fireChannelRead(msg);
      any = true;
    }
    if (any) {
      ctx.fireChannelReadComplete();
    }
    if (inputShutdown) {
      ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }
    ctx.pipeline().remove(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    Object msg;
    while ((msg = held.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}

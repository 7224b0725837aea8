package dev.capstan.core.io;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Keeps what a channel delivers before the handler that consumes it is in place: bytes, and the
 * end of input. A socket with auto-read off can still be read once by the transport (epoll reads
 * when the peer half-closes), so a client that sends and closes before its tunnel is open would
 * otherwise lose its bytes; and the peer's HTTP/2 preface often arrives in the same read as the end
 * of the TLS handshake, before the HTTP/2 codec is added. {@link Splice} and the HBONE handshake
 * replay and remove it.
 */
public final class Hold extends ChannelInboundHandlerAdapter {

  private final ArrayDeque<Object> held = new ArrayDeque<>(2);
  private boolean inputShutdown;
  private Throwable failure;

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

  /**
   * A failure before the splice (a read that found the peer reset) is kept too: the splice must
   * see it, or it would wait for the other side forever.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
  }

  /** Passes everything held to the handlers after this one, then leaves the pipeline. */
  public void replay(ChannelHandlerContext ctx) {
    Object msg;
    boolean any = false;
    while ((msg = held.poll()) != null) {
      ctx.fireChannelRead(msg);
      any = true;
    }
    if (any) {
      ctx.fireChannelReadComplete();
    }
    // In the order Netty reports them: the read failure, then the input shut down because of it.
    if (failure != null) {
      ctx.fireExceptionCaught(failure);
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

package dev.capstan.waypoint.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.function.LongConsumer;

/**
 * Opaque bytes between two HBONE streams (a client's tunnel and its upstream CONNECT stream), one
 * instance on each, after {@link StreamBytes}: what one reads the other writes, reads stop while
 * the other cannot take more (its stream window), an end of input is passed on as END_STREAM (TCP
 * half-close), and either side closing closes the other. For TLS and other non-HTTP traffic: the
 * waypoint sees no requests, only the connection.
 */
final class TcpRelay extends ChannelInboundHandlerAdapter {

  private final Channel peer;
  private final LongConsumer bytes;
  private boolean inputDone;
  private TcpRelay other;

  private TcpRelay(Channel peer, LongConsumer bytes) {
    this.peer = peer;
    this.bytes = bytes;
  }

  /**
   * Relays between {@code client} and {@code upstream} (both already carry {@link StreamBytes});
   * {@code sent}/{@code received} count the bytes each way, {@code closed} runs once when both are
   * closed. Call on their event loop.
   */
  static void join(Channel client, Channel upstream, LongConsumer fromClient, LongConsumer fromUpstream, Runnable closed) {
    Runnable once = new Runnable() {
      private int left = 2;

      @Override
      public void run() {
        if (--left == 0) {
          closed.run();
        }
      }
    };
    TcpRelay a = new TcpRelay(upstream, fromClient);
    TcpRelay b = new TcpRelay(client, fromUpstream);
    a.other = b;
    b.other = a;
    client.pipeline().addLast("tcp-relay", a);
    upstream.pipeline().addLast("tcp-relay", b);
    client.closeFuture().addListener(f -> once.run());
    upstream.closeFuture().addListener(f -> once.run());
    client.config().setAutoRead(true);
    upstream.config().setAutoRead(true);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!peer.isActive()) {
      buf.release();
      ctx.close();
      return;
    }
    bytes.accept(buf.readableBytes());
    peer.write(buf);
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false); // resumed by the peer's channelWritabilityChanged
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      peer.config().setAutoRead(true);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent && !inputDone) {
      inputDone = true; // this side sent END_STREAM: pass the half-close on
      if (other.inputDone) {
        ctx.close();
        peer.close();
      } else if (peer.isActive()) {
        peer.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    peer.close();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
    peer.close();
  }
}

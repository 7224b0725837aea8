package dev.capstan.waypoint.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Consumer;

/**
 * Tells HTTP/2 (prior knowledge: the client starts with the connection preface) from HTTP/1.1, and
 * both from TLS (a handshake record, first byte 22: the app's own TLS, passed on as opaque TCP), by
 * the first bytes of a stream, then puts the matching handlers in its place and passes them what
 * it has read. Reads no more than the preface's 24 bytes before deciding; a stream that ends
 * before is closed.
 */
final class ProtocolDetect extends ChannelInboundHandlerAdapter {

  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

  private final Consumer<ChannelHandlerContext> http1;
  private final Consumer<ChannelHandlerContext> http2;
  private final Consumer<ChannelHandlerContext> tls;
  private CompositeByteBuf seen;

  /** TLS record type of a handshake: no HTTP/1.1 method and no HTTP/2 preface starts with it. */
  static final int TLS_HANDSHAKE = 22;

  /** Each consumer adds its protocol's handlers after this one's context. */
  ProtocolDetect(Consumer<ChannelHandlerContext> http1, Consumer<ChannelHandlerContext> http2, Consumer<ChannelHandlerContext> tls) {
    this.http1 = http1;
    this.http2 = http2;
    this.tls = tls;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (seen == null) {
      seen = ctx.alloc().compositeBuffer();
    }
    seen.addComponent(true, buf);
    if (!seen.isReadable()) {
      return;
    }
    if (seen.getUnsignedByte(seen.readerIndex()) == TLS_HANDSHAKE) {
      decided(ctx, tls);
      return;
    }
    int n = Math.min(seen.readableBytes(), PREFACE.readableBytes());
    boolean prefix = ByteBufUtil.equals(seen, seen.readerIndex(), PREFACE, PREFACE.readerIndex(), n);
    if (prefix && n < PREFACE.readableBytes()) {
      return; // could still be HTTP/2: wait for the rest of the preface
    }
    decided(ctx, prefix ? http2 : http1);
  }

  private void decided(ChannelHandlerContext ctx, Consumer<ChannelHandlerContext> protocol) {
    protocol.accept(ctx);
    ByteBuf all = seen;
    seen = null;
    ctx.pipeline().remove(this);
    ctx.fireChannelRead(all);
    ctx.fireChannelReadComplete();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (seen != null) {
      ReferenceCountUtil.release(seen);
      seen = null;
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
      ctx.close(); // ended before its protocol was known
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }
}

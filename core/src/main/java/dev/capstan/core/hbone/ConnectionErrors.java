package dev.capstan.core.hbone;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last handler of an HBONE connection: socket errors the HTTP/2 codec does not handle (a reset
 * peer, a read after both halves closed) end the connection quietly; its streams see the close.
 */
@ChannelHandler.Sharable
final class ConnectionErrors extends ChannelInboundHandlerAdapter {

  static final ConnectionErrors INSTANCE = new ConnectionErrors();
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionErrors.class);

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("HBONE connection {} failed: {}", ctx.channel(), cause.toString());
    ctx.close();
  }
}

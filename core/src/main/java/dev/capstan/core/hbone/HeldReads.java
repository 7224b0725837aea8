package dev.capstan.core.hbone;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Bytes decrypted in the same read as the end of the TLS handshake (the peer's HTTP/2 preface, in
 * TLS 1.3 often sent before we see the handshake finish) are held here until the HTTP/2 codec is in
 * place, then replayed to it; released if the connection ends first.
 */
final class HeldReads {

  private final ArrayDeque<Object> held = new ArrayDeque<>(2);

  void hold(Object msg) {
    held.add(msg);
  }

  /** Sends the held reads to the handlers after {@code ctx}. */
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
  }

  void release() {
    Object msg;
    while ((msg = held.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}

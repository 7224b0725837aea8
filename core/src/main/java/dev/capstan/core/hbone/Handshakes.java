package dev.capstan.core.hbone;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.identity.SpiffeVerificationException;
import dev.capstan.core.io.Hold;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.io.BufferAccount;
import dev.capstan.core.io.Flushes;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;

/** What both sides of HBONE do once TLS is up: check ALPN h2, learn the peer, install HTTP/2. */
final class Handshakes {

  private Handshakes() {}

  /** The peer's verified identity, or why the connection cannot carry HBONE. */
  sealed interface Outcome {
    record Peer(SpiffeId identity) implements Outcome {}

    record Refused(String reason, String message) implements Outcome {}
  }

  /** Checks ALPN and reads the peer's SPIFFE ID from its (already verified) certificate. */
  static Outcome check(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
      return new Outcome.Refused("no_alpn_h2", "HBONE peer " + ctx.channel().remoteAddress() + " did not negotiate ALPN h2");
    }
    try {
      return new Outcome.Peer(SpiffeTrustManager.peerIdentity(ssl.engine().getSession()));
    } catch (SpiffeVerificationException e) {
      return new Outcome.Refused(e.reason().label(), e.getMessage());
    }
  }

  /**
   * Replaces the handshake handler {@code ctx} with flush consolidation, the HTTP/2 codec and its
   * stream multiplexer, charges the DATA waiting in streams to {@code queued} ({@link QueuedData}),
   * opens the connection window, and replays what the {@link Hold} before it kept meanwhile.
   */
  static void installHttp2(
      ChannelHandlerContext ctx, Http2FrameCodec codec, ChannelHandler streams, HboneSettings settings, BufferAccount queued) {
    ctx.pipeline().addLast("flush", Flushes.perTurn()); // the streams' flushes of a turn: one TLS write
    ctx.pipeline().addLast("h2", codec);
    ctx.pipeline().addLast("h2-streams", new Http2MultiplexHandler(streams));
    QueuedData.install(ctx.pipeline(), "h2-streams", queued);
    ctx.pipeline().addLast("last", ConnectionErrors.INSTANCE);
    ctx.pipeline().remove(ctx.handler());
    ChannelHandlerContext hold = ctx.pipeline().context(Hold.class);
    if (hold != null) {
      ((Hold) hold.handler()).replay(hold);
    }
    int extra = settings.connectionWindow() - 65_535;
    if (extra > 0) {
      ctx.channel().writeAndFlush(new DefaultHttp2WindowUpdateFrame(extra));
    }
  }
}

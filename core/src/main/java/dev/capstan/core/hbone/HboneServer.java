package dev.capstan.core.hbone;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.BufferAccount;
import dev.capstan.core.io.Hold;
import dev.capstan.core.identity.SpiffeVerificationException;
import dev.capstan.core.tls.SpiffeTrustManager;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * The server side of HBONE for accepted TCP connections: picks the certificate by the address the
 * connection was made to (the destination workload's IP), requires mutual TLS with ALPN h2,
 * learns the peer's SPIFFE ID, and hands each valid CONNECT stream to an {@link Acceptor}.
 * Invalid requests are answered here (400) and reported to the acceptor.
 */
public final class HboneServer extends ChannelInitializer<Channel> {

  /** Chooses the server certificate for a connection by its local (destination) address. */
  public interface TlsSelector {
    Optional<ServerTls> forLocalAddress(InetSocketAddress local);
  }

  /** The identity a connection presents and the context that presents it. */
  public record ServerTls(SpiffeId identity, SslContext context) {}

  /**
   * A CONNECT request from an authenticated peer.
   *
   * @param peer the client's verified identity
   * @param local the identity this connection presented to the peer
   * @param peerAddress the client's address
   * @param target the {@code :authority}, a literal IP and port
   * @param headers the request headers
   * @param stream the stream, with auto-read off
   */
  public record Request(
      SpiffeId peer,
      SpiffeId local,
      InetSocketAddress peerAddress,
      InetSocketAddress target,
      Http2Headers headers,
      Http2StreamChannel stream) {}

  /** What the node agent (or waypoint) does with requests and refusals. */
  public interface Acceptor {
    /** A valid CONNECT; the stream has auto-read off. Called on the stream's event loop. */
    void accept(Request request);

    /** A request or connection refused by HBONE itself; already answered or closed. */
    void refused(Refusal refusal);

    /**
     * Where a new connection that presents {@code local} charges the DATA waiting in its streams
     * ({@link QueuedData}); closed with the connection. By default nothing is charged.
     */
    default BufferAccount queueAccount(SpiffeId local) {
      return BufferAccount.UNLIMITED;
    }
  }

  /**
   * A refusal at the HBONE layer.
   *
   * @param status HTTP status sent, or 0 when the connection was closed (handshake failure)
   * @param reason metric label
   * @param peerAddress remote address
   * @param detail what the operator reads in the log
   */
  public record Refusal(int status, String reason, InetSocketAddress peerAddress, String detail) {}

  private final TlsSelector tls;
  private final HboneSettings settings;
  private final Acceptor acceptor;

  public HboneServer(TlsSelector tls, HboneSettings settings, Acceptor acceptor) {
    this.tls = tls;
    this.settings = settings;
    this.acceptor = acceptor;
  }

  /**
   * Asks the peer of an HBONE server connection to open no new streams (GOAWAY); open streams go
   * on. The last stream id is the largest possible (RFC 9113 §6.8 graceful shutdown), so streams
   * the peer opened before it saw the GOAWAY are still served rather than refused.
   */
  public static void goAway(Channel connection) {
    if (connection.isActive() && connection.pipeline().get(Http2MultiplexHandler.class) != null) {
      connection.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
    }
  }

  @Override
  protected void initChannel(Channel ch) {
    InetSocketAddress local = (InetSocketAddress) ch.localAddress();
    InetSocketAddress remote = (InetSocketAddress) ch.remoteAddress();
    Optional<ServerTls> context = tls.forLocalAddress(local);
    if (context.isEmpty()) {
      acceptor.refused(
          new Refusal(0, "no_local_identity", remote, "no local workload with a certificate at " + local + "; closing"));
      ch.close();
      return;
    }
    SslHandler ssl = context.get().context().newHandler(ch.alloc());
    ssl.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
    ch.pipeline().addLast("tls", ssl);
    ch.pipeline().addLast("hold", new Hold());
    ch.pipeline().addLast("hbone-handshake", new AfterHandshake(context.get().identity(), remote));
  }

  private final class AfterHandshake extends ChannelInboundHandlerAdapter {
    private final SpiffeId local;
    private final InetSocketAddress remote;

    AfterHandshake(SpiffeId local, InetSocketAddress remote) {
      this.local = local;
      this.remote = remote;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (!(evt instanceof SslHandshakeCompletionEvent done)) {
        ctx.fireUserEventTriggered(evt);
        return;
      }
      if (!done.isSuccess()) {
        acceptor.refused(
            new Refusal(0, HandshakeFailures.reason(done.cause()), remote,
                "TLS handshake failed: " + HandshakeFailures.describe(done.cause())));
        ctx.close();
        return;
      }
      Handshakes.Outcome outcome = Handshakes.check(ctx);
      if (outcome instanceof Handshakes.Outcome.Refused refused) {
        acceptor.refused(new Refusal(0, refused.reason(), remote, refused.message()));
        ctx.close();
        return;
      }
      SpiffeId peer = ((Handshakes.Outcome.Peer) outcome).identity();
      Handshakes.installHttp2(ctx, Hbone.codec(true, settings), new StreamInit(peer, local, remote), settings,
          acceptor.queueAccount(local));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Handshake failures also arrive as the completion event above; report what else goes wrong.
      if (!(cause instanceof javax.net.ssl.SSLException) && !(cause.getCause() instanceof javax.net.ssl.SSLException)) {
        acceptor.refused(new Refusal(0, "connection_error", remote, HandshakeFailures.describe(cause)));
      }
      ctx.close();
    }
  }

  private final class StreamInit extends ChannelInitializer<Http2StreamChannel> {
    private final SpiffeId peer;
    private final SpiffeId local;
    private final InetSocketAddress remote;

    StreamInit(SpiffeId peer, SpiffeId local, InetSocketAddress remote) {
      this.peer = peer;
      this.local = local;
      this.remote = remote;
    }

    @Override
    protected void initChannel(Http2StreamChannel stream) {
      OpenStreams.track(stream);
      QueuedData.register(stream);
      stream.pipeline().addLast("hbone-request", new RequestHandler(peer, local, remote));
    }
  }

  private final class RequestHandler extends ChannelInboundHandlerAdapter {
    private final SpiffeId peer;
    private final SpiffeId local;
    private final InetSocketAddress remote;

    RequestHandler(SpiffeId peer, SpiffeId local, InetSocketAddress remote) {
      this.peer = peer;
      this.local = local;
      this.remote = remote;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
      if (!(msg instanceof Http2HeadersFrame frame)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      Http2Headers headers = frame.headers();
      CharSequence method = headers.method();
      if (method == null || !"CONNECT".contentEquals(method)) {
        refuse(stream, "method_not_connect", "method " + method + " is not CONNECT");
        return;
      }
      if (headers.path() != null || headers.scheme() != null || headers.get(":protocol") != null) {
        refuse(stream, "bad_connect", "CONNECT with :path, :scheme or :protocol is not HBONE");
        return;
      }
      CharSequence authority = headers.authority();
      Optional<InetSocketAddress> target = Hbone.parseAuthority(authority);
      if (target.isEmpty()) {
        String shown = authority == null ? "none" : authority.length() > Hbone.MAX_AUTHORITY_LENGTH
            ? authority.length() + " characters" : "'" + authority + "'";
        refuse(stream, "bad_authority", ":authority must be <ip>:<port>, got " + shown);
        return;
      }
      stream.config().setAutoRead(false);
      ctx.pipeline().remove(this);
      acceptor.accept(new Request(peer, local, remote, target.get(), headers, stream));
    }

    private void refuse(Http2StreamChannel stream, String reason, String detail) {
      HboneStreams.refuse(stream, Hbone.BAD_REQUEST);
      acceptor.refused(new Refusal(Hbone.BAD_REQUEST, reason, remote, detail + " (peer " + peer + ")"));
    }
  }
}

package dev.capstan.nodeagent.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.io.Hold;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The explicit proxy on 15080 for apps that choose it ({@code HTTP_PROXY} style): {@code CONNECT
 * <ip>:<port>} or {@code CONNECT <service>.<namespace>[.svc[.cluster.local]]:<port>}, answered
 * {@code 200} once the HBONE tunnel is open, or with a status that names the reason. Bytes the
 * client sends before the answer are held and sent first.
 */
public final class ExplicitProxy extends ChannelInboundHandlerAdapter {

  private static final Pattern SERVICE_HOST =
      Pattern.compile("([a-z0-9][a-z0-9\\-]*)\\.([a-z0-9][a-z0-9\\-]*)(\\.svc(\\.cluster\\.local)?)?:(\\d{1,5})");

  private final Outbound outbound;
  private boolean connecting;

  public ExplicitProxy(Outbound outbound) {
    this.outbound = outbound;
  }

  /** The handlers of a new explicit-proxy connection, in order. */
  public static void install(Channel ch, Outbound outbound) {
    ch.pipeline().addLast("http", new HttpServerCodec(4096, 8192, 8192));
    ch.pipeline().addLast("explicit-proxy", new ExplicitProxy(outbound));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request && !connecting) {
      ReferenceCountUtil.release(msg);
      if (request.decoderResult().isFailure()) {
        answer(ctx.channel(), 400, "Bad Request", "malformed request: " + request.decoderResult().cause().getMessage());
        return;
      }
      if (!HttpMethod.CONNECT.equals(request.method())) {
        answer(ctx.channel(), 405, "Method Not Allowed", "this is Capstan's explicit proxy: only CONNECT host:port is supported");
        return;
      }
      Optional<Outbound.Destination> destination = parse(request.uri());
      if (destination.isEmpty()) {
        answer(ctx.channel(), 400, "Bad Request",
            "CONNECT target must be <ip>:<port> or <service>.<namespace>:<port>, got '" + request.uri() + "'");
        return;
      }
      connecting = true;
      ctx.channel().config().setAutoRead(false);
      ctx.pipeline().addAfter(ctx.name(), "hold", new Hold());
      ctx.pipeline().remove(HttpServerCodec.class);
      outbound.proxy(ctx.channel(), destination.get(), new Outbound.Handshake() {
        @Override
        public void established(Channel downstream, Http2StreamChannel stream) {
          downstream.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 200 Connection established\r\n\r\n", StandardCharsets.US_ASCII));
          ctx.pipeline().remove(ExplicitProxy.this);
        }

        @Override
        public void failed(Channel downstream, ProxyError error) {
          answer(downstream, error.httpStatus(), "Proxy Error", error.message());
        }
      });
      return;
    }
    if (msg instanceof ByteBuf && connecting) {
      // Tunnel bytes sent before our answer: the Hold after us keeps them for the splice.
      ctx.fireChannelRead(msg);
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  static Optional<Outbound.Destination> parse(String uri) {
    Optional<java.net.InetSocketAddress> address = Hbone.parseAuthority(uri);
    if (address.isPresent()) {
      return Optional.of(new Outbound.Destination.Address(address.get()));
    }
    Matcher m = SERVICE_HOST.matcher(uri);
    if (m.matches()) {
      int port = Integer.parseInt(m.group(5));
      if (port >= 1 && port <= 65535) {
        return Optional.of(new Outbound.Destination.ServiceName(m.group(2) + "/" + m.group(1), port));
      }
    }
    return Optional.empty();
  }

  private static void answer(Channel ch, int status, String phrase, String body) {
    byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: text/plain\r\nContent-Length: " + bytes.length
        + "\r\nConnection: close\r\n\r\n";
    ByteBuf buf = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), bytes);
    if (ch.pipeline().get(HttpServerCodec.class) != null) {
      ch.pipeline().remove(HttpServerCodec.class);
    }
    ch.writeAndFlush(buf).addListener(ChannelFutureListener.CLOSE);
  }
}

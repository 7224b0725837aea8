package dev.capstan.waypoint.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last in a client stream's pipeline (an HTTP/1.1 stream, or one inner stream of an HTTP/2
 * connection): reads requests one at a time and hands each to its {@link Exchange}. Auto-read is
 * off: the stream is read when there is no request yet or the exchange wants more of its body, so
 * a request's bytes are pulled no faster than its upstream takes them. HTTP/1.1 requests pipelined
 * behind one still being answered wait here, in order (one read's worth at most).
 */
final class RequestReader extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(RequestReader.class);

  /** Starts exchanges: {@link #open} makes one for a request head, {@link #route} decides where it goes. */
  interface Starter {
    Exchange open(RequestReader reader, HttpRequest head);

    void route(Exchange exchange);
  }

  private final boolean http2;
  private final Starter starter;
  private final ArrayDeque<Object> early = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private Exchange current;
  private boolean draining;
  private boolean inputEnded;

  RequestReader(boolean http2, Starter starter) {
    this.http2 = http2;
    this.starter = starter;
  }

  Channel channel() {
    return ctx.channel();
  }

  /** Whether the client speaks HTTP/2 (this is one inner stream) rather than HTTP/1.1. */
  boolean http2() {
    return http2;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ctx.channel().config().setAutoRead(false);
    demand();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    demand();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!early.isEmpty() || (current != null && current.requestComplete())) {
      early.add(msg); // HTTP/1.1 pipelining: the next request waits for this one's answer
      return;
    }
    dispatch(msg);
  }

  private void dispatch(Object msg) {
    if (msg instanceof HttpRequest request) {
      if (current != null) {
        ReferenceCountUtil.release(msg);
        LOG.warn("a request head in the middle of a request on {}: stream closed", ctx.channel());
        ctx.close();
        return;
      }
      SlowRequest.arrived(ctx.channel()); // the head is in: the body comes at the pace the upstream takes it
      HttpRequest head = request;
      LastHttpContent rest = null;
      if (request instanceof FullHttpRequest full) {
        head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
        head.setDecoderResult(full.decoderResult());
        rest = Exchange.lastOf(full.content(), full.trailingHeaders());
      }
      Exchange exchange = starter.open(this, head);
      current = exchange;
      if (rest != null) {
        exchange.body(rest);
      }
      starter.route(exchange);
    } else if (msg instanceof HttpContent content) {
      if (content.decoderResult().isFailure()) {
        content.release();
        LOG.warn("malformed request body on {}: {} — stream closed", ctx.channel(), content.decoderResult().cause().toString());
        ctx.close();
      } else if (current == null) {
        content.release();
      } else {
        current.body(content);
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (current != null) {
      current.bodyReadComplete();
    }
    demand();
  }

  /** Reads more when there is no request yet, or the exchange wants more of its body. */
  void demand() {
    if (ctx == null || !ctx.channel().isActive() || inputEnded) {
      return;
    }
    if (current == null ? early.isEmpty() : current.wantsBody()) {
      ctx.read();
    }
  }

  /** {@code exchange} is over: the next request is read, or the stream ends. */
  void done(Exchange exchange, boolean keepAlive) {
    if (current != exchange) {
      return;
    }
    current = null;
    if (!keepAlive || (inputEnded && early.isEmpty())) {
      end();
      return;
    }
    if (!http2) {
      SlowRequest.next(ctx.channel());
    }
    if (!http2 && !draining) {
      draining = true;
      try {
        while (!early.isEmpty() && (current == null || !current.requestComplete())) {
          dispatch(early.poll());
        }
      } finally {
        draining = false;
      }
    }
    demand();
  }

  /** Ends the stream once what was written has gone. */
  private void end() {
    early.forEach(ReferenceCountUtil::release);
    early.clear();
    Channel ch = ctx.channel();
    if (http2) {
      if (ch.isActive()) { // both sides ended closes the stream: still open, the client is told to stop sending
        ch.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR)).addListener(ChannelFutureListener.CLOSE);
      }
    } else if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null && ctx.channel().isWritable()) {
      current.clientWritable();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      inputEnded = true; // the client sent all it will: answer what is under way, then end
      if (current == null && early.isEmpty()) {
        end();
      }
      return;
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Exchange e = current;
    current = null;
    early.forEach(ReferenceCountUtil::release);
    early.clear();
    if (e != null) {
      e.clientGone();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("client stream {} failed: {}", ctx.channel(), cause.toString());
    ctx.close();
  }
}

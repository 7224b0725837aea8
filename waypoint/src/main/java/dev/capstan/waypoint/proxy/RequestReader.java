package dev.capstan.waypoint.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last in an HTTP/1.1 client stream's pipeline: reads requests one at a time and hands each to
 * its {@link Exchange}, and is the stream the exchange answers on ({@link ClientStream}). Auto-read is
 * off: the stream is read when there is no request yet or the exchange wants more of its body, so
 * a request's bytes are pulled no faster than its upstream takes them. HTTP/1.1 requests pipelined
 * behind one still being answered wait here, in order (one read's worth at most).
 */
final class RequestReader extends ChannelInboundHandlerAdapter implements ClientStream {

  private static final Logger LOG = LoggerFactory.getLogger(RequestReader.class);

  /** Starts exchanges: {@link #open} makes one for a request head, {@link #route} decides where it goes. */
  interface Starter {
    Exchange open(ClientStream client, HttpRequest head);

    void route(Exchange exchange);
  }

  private final Starter starter;
  private final ArrayDeque<Object> early = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private Exchange current;
  private boolean draining;
  private boolean inputEnded;

  RequestReader(Starter starter) {
    this.starter = starter;
  }

  @Override
  public boolean http2() {
    return false;
  }

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  @Override
  public boolean isActive() {
    return ctx.channel().isActive();
  }

  @Override
  public boolean isWritable() {
    return ctx.channel().isWritable();
  }

  @Override
  public void write(HttpObject msg) {
    ctx.channel().write(msg, ctx.channel().voidPromise());
  }

  @Override
  public void flush() {
    ctx.channel().flush();
  }

  @Override
  public void close() {
    ctx.channel().close();
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

  @Override
  public void demand() {
    if (ctx == null || !ctx.channel().isActive() || inputEnded) {
      return;
    }
    if (current == null ? early.isEmpty() : current.wantsBody()) {
      ctx.read();
    }
  }

  @Override
  public void done(Exchange exchange, boolean keepAlive) {
    if (current != exchange) {
      return;
    }
    current = null;
    if (!keepAlive || (inputEnded && early.isEmpty())) {
      end();
      return;
    }
    SlowRequest.next(ctx.channel());
    if (!draining) {
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
    if (ch.isActive()) {
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

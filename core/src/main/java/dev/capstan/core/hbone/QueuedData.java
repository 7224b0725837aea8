package dev.capstan.core.hbone;

import dev.capstan.core.io.BufferAccount;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Charges the DATA an HBONE connection has received but its streams have not read yet to one
 * {@link BufferAccount}: bytes the proxy holds, waiting in a stream until its splice reads them
 * (up to the stream's flow-control window, and the connection's in all).
 *
 * <p>On the connection, between the HTTP/2 codec and the stream multiplexer, every DATA frame of a
 * registered stream is charged as it arrives. On each stream, a {@link Dequeue} handler first in
 * its pipeline releases a frame's bytes as the stream reads it (the splice then charges them to its
 * own account until they are written), and releases whatever is still queued when the stream
 * closes. The charge never stops the connection from being read — that would also stop the
 * WINDOW_UPDATEs of the other direction — it makes the tenant's share count the queue, so its
 * splices slow down while the queue is drained, and the HTTP/2 windows bound it.
 * Everything runs on the connection's event loop, which its streams share.
 */
public final class QueuedData extends ChannelInboundHandlerAdapter {

  private static final AttributeKey<QueuedData> KEY = AttributeKey.valueOf("capstan.queuedData");

  private final BufferAccount account;
  private final Map<Http2FrameStream, long[]> queued = new IdentityHashMap<>();

  private QueuedData(BufferAccount account) {
    this.account = account;
  }

  /**
   * Installs the connection side before the pipeline's {@code h2-streams} multiplexer; the account
   * is closed with the connection. {@link BufferAccount#UNLIMITED} installs nothing.
   */
  static void install(ChannelPipeline pipeline, String before, BufferAccount account) {
    if (account == BufferAccount.UNLIMITED) {
      return;
    }
    QueuedData handler = new QueuedData(account);
    pipeline.addBefore(before, "h2-queued", handler);
    Channel channel = pipeline.channel();
    channel.attr(KEY).set(handler);
    channel.closeFuture().addListener(f -> channel.eventLoop().execute(handler::closeAll));
  }

  /** Adds the stream side to a new stream's pipeline (first); nothing when its connection has no account. */
  static void register(Http2StreamChannel stream) {
    QueuedData connection = stream.parent().attr(KEY).get();
    if (connection != null) {
      stream.pipeline().addFirst("h2-dequeue", connection.new Dequeue(stream.stream()));
    }
  }

  /** Bytes queued in this connection's streams now (for tests and the config dump). */
  public static long queuedBytes(Channel connection) {
    QueuedData handler = connection.attr(KEY).get();
    if (handler == null) {
      return 0;
    }
    long sum = 0;
    for (long[] n : handler.queued.values()) {
      sum += n[0];
    }
    return sum;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2DataFrame frame) {
      long[] count = queued.get(frame.stream());
      int n = frame.content().readableBytes();
      if (count != null && n > 0) {
        count[0] += n;
        account.charge(n);
      }
    }
    ctx.fireChannelRead(msg);
  }

  private void closeAll() {
    for (long[] n : queued.values()) {
      release(n);
    }
    queued.clear();
    account.close();
  }

  private void release(long[] count) {
    if (count[0] > 0) {
      account.release((int) count[0]);
      count[0] = 0;
    }
  }

  /** The stream side: releases what the stream reads, and on close what it never read. */
  private final class Dequeue extends ChannelInboundHandlerAdapter {
    private final Http2FrameStream stream;
    private final long[] count = new long[1];

    Dequeue(Http2FrameStream stream) {
      this.stream = stream;
      queued.put(stream, count);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2DataFrame frame) {
        int n = (int) Math.min(frame.content().readableBytes(), count[0]);
        if (n > 0) {
          count[0] -= n;
          account.release(n);
        }
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      forget();
      ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      forget();
    }

    private void forget() {
      if (queued.remove(stream) != null) {
        release(count);
      }
    }
  }
}

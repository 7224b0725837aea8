package dev.capstan.core.io;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Pipes bytes both ways between a TCP socket and an HBONE stream until both sides are done.
 *
 * <p>Backpressure: a side is read only while the other side is writable (Netty write-buffer
 * watermarks on the socket, the HTTP/2 flow-control window on the stream); when a write makes the
 * other side unwritable, reading stops, and resumes when its writability returns. Buffers are
 * passed through, never copied, and released exactly once (by the write or here).
 *
 * <p>Half-close: end of input on the socket ends the stream's outbound half (DATA with END_STREAM);
 * END_STREAM from the stream shuts the socket's output down once everything before it is written.
 * A reset stream or a failed socket closes both sides at once.
 *
 * <p>Flushes: the socket is flushed once per event-loop turn, not once per DATA frame. The frames
 * of many requests multiplexed on one connection (HTTP/2, gRPC) arrive a tunnel read at a time, and
 * a flush per frame made a write syscall and a TCP segment per response to the app (16x HAProxy's
 * segments in the waypoint benchmark, and as many wake-ups of the app).
 *
 * <p>Quota: every byte read is charged to its direction's {@link BufferAccount} until its write
 * completes; a side is read only while its direction's account allows it too (the tenant's buffer
 * quota). One account per direction, so holding bytes one way never stops the other way from
 * draining (a full-duplex peer could otherwise wait on us forever).
 */
public final class Splice {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Splice.class);

  /**
   * What a splice carried, reported once when both sides are closed.
   *
   * @param fromSocket bytes read from the socket and sent on the stream
   * @param fromStream bytes received on the stream and written to the socket
   * @param aborted whether a side was reset or failed rather than closed cleanly
   */
  public record Result(long fromSocket, long fromStream, boolean aborted) {}

  private final Channel socket;
  private final Http2StreamChannel stream;
  private final Consumer<Result> onDone;
  private final BufferAccount fromSocketAccount;
  private final BufferAccount fromStreamAccount;
  private final AtomicLong fromSocket = new AtomicLong();
  private final AtomicLong fromStream = new AtomicLong();
  private final AtomicBoolean socketInputDone = new AtomicBoolean();
  private final AtomicBoolean streamInputDone = new AtomicBoolean();
  private final AtomicBoolean aborted = new AtomicBoolean();
  private final AtomicBoolean reported = new AtomicBoolean();
  private volatile ChannelFuture endSent;

  private Splice(Channel socket, Http2StreamChannel stream, BufferAccount.Pair accounts, Consumer<Result> onDone) {
    this.socket = socket;
    this.stream = stream;
    this.fromSocketAccount = accounts.first();
    this.fromStreamAccount = accounts.second();
    this.onDone = onDone;
  }

  /**
   * Starts piping. Both channels must be active and have auto-read off; this turns reading on.
   * What a {@link Hold} in the socket's pipeline kept is sent first. {@code onDone} runs once, when
   * both channels are closed. Call it on the socket's event loop.
   */
  public static Splice start(Channel socket, Http2StreamChannel stream, Consumer<Result> onDone) {
    return start(socket, stream, BufferAccount.Pair.UNLIMITED, onDone);
  }

  /**
   * {@link #start(Channel, Http2StreamChannel, Consumer)}, charging bytes read from the socket to
   * {@code accounts.first()} and bytes read from the stream to {@code accounts.second()}.
   */
  public static Splice start(Channel socket, Http2StreamChannel stream, BufferAccount.Pair accounts, Consumer<Result> onDone) {
    Splice splice = new Splice(socket, stream, accounts, onDone);
    Runnable wake = () -> socket.eventLoop().execute(splice::wake);
    accounts.first().onWake(wake);
    accounts.second().onWake(wake);
    socket.pipeline().addFirst("flush", Flushes.perTurn()); // see "Flushes" above
    socket.pipeline().addLast("splice", splice.new SocketSide());
    stream.pipeline().addLast("splice", splice.new StreamSide());
    socket.closeFuture().addListener(f -> splice.onSocketClosed());
    stream.closeFuture().addListener(f -> splice.onStreamClosed());
    ChannelHandlerContext hold = socket.pipeline().context(Hold.class);
    if (hold != null) {
      ((Hold) hold.handler()).replay(hold);
    }
    splice.resumeSocketReads();
    splice.resumeStreamReads();
    return splice;
  }

  /** Bytes read from the socket so far. */
  public long fromSocket() {
    return fromSocket.get();
  }

  /** Bytes read from the stream so far. */
  public long fromStream() {
    return fromStream.get();
  }

  private void onSocketClosed() {
    if (stream.isActive()) {
      ChannelFuture end = endSent;
      if (!socketInputDone.get() || end == null) {
        // The socket failed or closed without ending its input: reset the stream.
        aborted.set(true);
        stream.close();
      } else {
        // The socket ended cleanly: what it sent may still wait for HTTP/2 flow control. Reset the
        // stream only once END_STREAM is out, and only if the peer is still sending to nobody.
        end.addListener(f -> {
          if (!streamInputDone.get()) {
            aborted.set(true);
          }
          stream.close();
        });
      }
    }
    maybeReport();
  }

  private void onStreamClosed() {
    if (socket.isActive()) {
      if (!(streamInputDone.get() && socketInputDone.get())) {
        aborted.set(true);
      }
      socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
    maybeReport();
  }

  private void maybeReport() {
    if (!socket.isActive() && !stream.isActive() && reported.compareAndSet(false, true)) {
      fromSocketAccount.close();
      fromStreamAccount.close();
      onDone.accept(new Result(fromSocket.get(), fromStream.get(), aborted.get()));
    }
  }

  private void abort() {
    aborted.set(true);
    socket.close();
    stream.close();
  }

  /**
   * Reads the socket again, unless its input has ended: epoll fails a read on a socket whose input
   * is shut down, and that failure must not close a socket we are still writing to.
   */
  private void resumeSocketReads() {
    if (socket.isActive() && fromSocketAccount.mayRead() && !(socket instanceof DuplexChannel duplex && duplex.isInputShutdown())) {
      socket.config().setAutoRead(true);
    }
  }

  /** Reads the stream again, if the account allows it. */
  private void resumeStreamReads() {
    if (stream.isActive() && fromStreamAccount.mayRead()) {
      stream.config().setAutoRead(true);
    }
  }

  /** The account allows reading again: each side resumes if its destination can take more. */
  private void wake() {
    if (stream.isWritable()) {
      resumeSocketReads();
    }
    if (socket.isWritable()) {
      resumeStreamReads();
    }
  }

  private void closeWhenBothHalvesDone() {
    if (socketInputDone.get() && streamInputDone.get()) {
      socket.close();
    }
  }

  /** Reads the socket, writes the stream. */
  private final class SocketSide extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      int n = buf.readableBytes();
      fromSocket.addAndGet(n);
      boolean more = fromSocketAccount.charge(n);
      stream.write(new DefaultHttp2DataFrame(buf, false), Release.promise(stream, fromSocketAccount, n));
      if (!more || !stream.isWritable()) {
        socket.config().setAutoRead(false);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      stream.flush();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        endSent = stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        socketInputDone.set(true);
        closeWhenBothHalvesDone();
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (socket.isWritable()) {
        resumeStreamReads();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("socket {} failed: {}", socket, cause.toString());
      if (socketInputDone.get() && socket.isActive() && notConnected(cause)) {
        // A read error after the input ended (ENOTCONN once both halves are shut) changes nothing:
        // the socket is still written to, and write errors close it (Netty's auto-close). A reset
        // means the peer is gone: abort.
        return;
      }
      abort();
    }
  }

  /** ENOTCONN, as epoll reports a read on a socket whose both halves are shut. */
  static boolean notConnected(Throwable cause) {
    return cause instanceof java.nio.channels.NotYetConnectedException
        || (cause instanceof java.io.IOException && cause.getMessage() != null
            && cause.getMessage().contains("not connected"));
  }

  /** Reads the stream, writes the socket. */
  private final class StreamSide extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2DataFrame frame) {
        ByteBuf content = frame.content();
        int n = content.readableBytes();
        boolean end = frame.isEndStream();
        boolean more = true;
        if (n > 0) {
          fromStream.addAndGet(n);
          more = fromStreamAccount.charge(n);
          socket.write(content, Release.promise(socket, fromStreamAccount, n));
        } else {
          frame.release();
        }
        if (end) {
          endOfStream();
        } else if (!more || !socket.isWritable()) {
          stream.config().setAutoRead(false);
        }
      } else if (msg instanceof Http2HeadersFrame headers && headers.isEndStream()) {
        endOfStream();
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2ResetFrame) {
        abort();
      }
      ctx.fireUserEventTriggered(evt);
    }

    private void endOfStream() {
      streamInputDone.set(true);
      if (!socket.isActive()) {
        return;
      }
      if (socketInputDone.get()) {
        // Both directions are finished: close (which sends FIN) once everything is written, rather
        // than shut the output down first (Netty builds an exception for every output shutdown).
        socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      socket.writeAndFlush(Unpooled.EMPTY_BUFFER)
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (socket instanceof DuplexChannel duplex && socket.isActive()) {
                      duplex.shutdownOutput();
                    }
                    closeWhenBothHalvesDone();
                  });
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      socket.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (stream.isWritable()) {
        resumeSocketReads();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      abort();
    }
  }
}

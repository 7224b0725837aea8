package dev.capstan.core.io;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Pipes bytes both ways between two TCP sockets until both sides are done: the path of
 * connections that need no tunnel (a destination on this node, a destination outside the mesh).
 *
 * <p>The same scheme as {@link Splice}: a side is read only while the other side is writable
 * (write-buffer watermarks), buffers are passed through and released exactly once, end of input on
 * one side shuts the other side's output down once everything before it is written, and a failed
 * socket closes both. Both channels must be on the same event loop.
 */
public final class SocketSplice {

  /**
   * What a splice carried, reported once when both sockets are closed.
   *
   * @param fromFirst bytes read from the first socket and written to the second
   * @param fromSecond bytes read from the second socket and written to the first
   * @param aborted whether a side failed or closed before ending its input
   */
  public record Result(long fromFirst, long fromSecond, boolean aborted) {}

  private final Side first;
  private final Side second;
  private final Consumer<Result> onDone;
  private final AtomicBoolean aborted = new AtomicBoolean();
  private final AtomicBoolean reported = new AtomicBoolean();

  private SocketSplice(Channel a, Channel b, BufferAccount.Pair accounts, Consumer<Result> onDone) {
    this.first = new Side(a, accounts.first());
    this.second = new Side(b, accounts.second());
    first.other = second;
    second.other = first;
    this.onDone = onDone;
  }

  /**
   * Starts piping between two active sockets with auto-read off; what a {@link Hold} in either
   * pipeline kept is passed on first. {@code onDone} runs once, when both are closed. Call it on
   * their event loop.
   */
  public static SocketSplice start(Channel first, Channel second, Consumer<Result> onDone) {
    return start(first, second, BufferAccount.Pair.UNLIMITED, onDone);
  }

  /**
   * {@link #start(Channel, Channel, Consumer)}, charging bytes read from {@code first} to
   * {@code accounts.first()} and bytes read from {@code second} to {@code accounts.second()}: one
   * account per direction, so holding bytes one way never stops the other way from draining.
   */
  public static SocketSplice start(Channel first, Channel second, BufferAccount.Pair accounts, Consumer<Result> onDone) {
    SocketSplice splice = new SocketSplice(first, second, accounts, onDone);
    Runnable wake = () -> first.eventLoop().execute(splice::wake);
    accounts.first().onWake(wake);
    accounts.second().onWake(wake);
    for (Side side : new Side[] {splice.first, splice.second}) {
      side.channel.pipeline().addLast("splice", side);
      side.channel.closeFuture().addListener(f -> splice.onClosed(side));
    }
    for (Side side : new Side[] {splice.first, splice.second}) {
      ChannelHandlerContext hold = side.channel.pipeline().context(Hold.class);
      if (hold != null) {
        ((Hold) hold.handler()).replay(hold);
      }
      side.resumeReads();
    }
    return splice;
  }

  private void onClosed(Side side) {
    if (side.other.channel.isActive()) {
      if (!side.inputDone.get() || !side.other.inputDone.get()) {
        aborted.set(true);
      }
      // Whatever the closed side sent before is written first.
      side.other.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
    if (!first.channel.isActive() && !second.channel.isActive() && reported.compareAndSet(false, true)) {
      first.account.close();
      second.account.close();
      onDone.accept(new Result(first.read.get(), second.read.get(), aborted.get()));
    }
  }

  /** The account allows reading again: each side resumes if the other can take more. */
  private void wake() {
    for (Side side : new Side[] {first, second}) {
      if (side.other.channel.isWritable()) {
        side.resumeReads();
      }
    }
  }

  /** Reads its socket, writes the other one. */
  private final class Side extends ChannelInboundHandlerAdapter {
    final Channel channel;
    final BufferAccount account;
    final AtomicLong read = new AtomicLong();
    final AtomicBoolean inputDone = new AtomicBoolean();
    Side other;

    Side(Channel channel, BufferAccount account) {
      this.channel = channel;
      this.account = account;
    }

    /** Reads again unless the input has ended (epoll fails reads on a shut-down input). */
    void resumeReads() {
      if (channel.isActive() && !inputDone.get() && account.mayRead()
          && !(channel instanceof DuplexChannel d && d.isInputShutdown())) {
        channel.config().setAutoRead(true);
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      int n = buf.readableBytes();
      read.addAndGet(n);
      boolean more = account.charge(n);
      other.channel.write(buf, Release.promise(other.channel, account, n));
      if (!more || !other.channel.isWritable()) {
        channel.config().setAutoRead(false);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      other.channel.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (channel.isWritable()) {
        other.resumeReads();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (!(evt instanceof ChannelInputShutdownEvent)) {
        ctx.fireUserEventTriggered(evt);
        return;
      }
      if (!inputDone.compareAndSet(false, true)) {
        return;
      }
      if (other.inputDone.get()) {
        // Both directions finished: close both once everything is written.
        other.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      other.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
        if (other.channel instanceof DuplexChannel duplex && other.channel.isActive()) {
          duplex.shutdownOutput();
        }
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (inputDone.get() && channel.isActive() && Splice.notConnected(cause)) {
        // ENOTCONN on a read once both halves are shut changes nothing; write errors close the
        // socket. Anything else (a reset) means the peer is gone: both sides close.
        return;
      }
      aborted.set(true);
      channel.close();
      other.channel.close();
    }
  }
}

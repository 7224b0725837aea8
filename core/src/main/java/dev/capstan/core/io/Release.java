package dev.capstan.core.io;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;

/**
 * Releases charged bytes from a {@link BufferAccount} when their write completes or fails; a
 * failure still reaches the pipeline, as with a void promise.
 */
final class Release implements ChannelFutureListener {

  private final BufferAccount account;
  private final int bytes;

  private Release(BufferAccount account, int bytes) {
    this.account = account;
    this.bytes = bytes;
  }

  /** The promise for writing {@code bytes} charged to {@code account} on {@code channel}. */
  static ChannelPromise promise(Channel channel, BufferAccount account, int bytes) {
    if (account == BufferAccount.UNLIMITED || bytes == 0) {
      return channel.voidPromise();
    }
    return channel.newPromise().addListener(new Release(account, bytes));
  }

  @Override
  public void operationComplete(ChannelFuture future) {
    account.release(bytes);
    if (!future.isSuccess() && future.channel().isActive()) {
      // As a void promise would: the failure goes to the pipeline, whose splice handler aborts.
      future.channel().pipeline().fireExceptionCaught(future.cause());
    }
  }
}

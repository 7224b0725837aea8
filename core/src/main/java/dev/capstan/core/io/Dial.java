package dev.capstan.core.io;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.SocketAddress;

/**
 * Opens outgoing sockets from a task of the event loop, never from inside the handling of a batch
 * of epoll events (docs/decisions.md D21).
 *
 * <p>With Netty 4.2's epoll transport a socket created while the loop is still dispatching a batch
 * can take the file descriptor number of a socket closed earlier in the same batch, and the batch's
 * remaining events for that number then reach the new socket: its connect fails with
 * {@code epoll_ctl ENOENT} or its reads with {@code ENOTCONN}. A task runs after the batch, when no
 * event for a closed descriptor is left. Measured: a test's per-request dials failed in 5 of 6 runs
 * made inline, in 0 of 6 made as tasks.
 */
public final class Dial {

  private Dial() {}

  /**
   * Connects {@code bootstrap} (whose group is {@code loop}) to {@code remote}, from {@code local}
   * when not null, in a task of {@code loop}. The future, completed on {@code loop}, holds the
   * connected channel.
   */
  public static Future<Channel> connect(EventLoop loop, Bootstrap bootstrap, SocketAddress remote, SocketAddress local) {
    Promise<Channel> connected = loop.newPromise();
    loop.execute(() -> {
      ChannelFuture f = local == null ? bootstrap.connect(remote) : bootstrap.connect(remote, local);
      f.addListener(done -> {
        if (done.isSuccess()) {
          connected.trySuccess(f.channel());
        } else {
          connected.tryFailure(done.cause());
        }
      });
    });
    return connected;
  }
}

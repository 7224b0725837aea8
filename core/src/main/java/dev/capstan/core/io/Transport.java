package dev.capstan.core.io;

import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.RejectedExecutionHandlers;
import java.util.concurrent.Executor;

/**
 * The socket transport of the data plane: Netty's native epoll where it loads (needed later for
 * IP_TRANSPARENT and SO_MARK), NIO elsewhere.
 *
 * @param name "epoll" or "nio"
 * @param ioHandlerFactory event loop I/O handler
 * @param serverChannel listening socket class
 * @param socketChannel connected socket class
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel) {

  /**
   * {@code SO_MARK} (SOL_SOCKET 1, option 36 on Linux): the firewall mark of a socket's packets.
   * Netty has no named option for it; epoll channels accept it as a raw integer option.
   */
  public static final ChannelOption<Integer> SO_MARK = new IntegerUnixChannelOption("SO_MARK", 1, 36);

  /** Whether this transport can set {@link #SO_MARK} and {@code IP_TRANSPARENT} (epoll only). */
  public boolean transparentCapable() {
    return name.equals("epoll");
  }

  /** Native epoll when available, else NIO. */
  public static Transport best() {
    if (Epoll.isAvailable()) {
      return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
    }
    return nio();
  }

  /** Java NIO. */
  public static Transport nio() {
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
  }

  /**
   * Longest run of queued tasks an event loop does before it polls its sockets again. Netty's
   * default is a second: a connection whose reads continue as tasks (an edge-triggered socket with
   * more to read than one read batch) can then keep a loop away from every other socket it serves
   * for that long. A millisecond keeps each loop's turn short, so a busy connection cannot make the
   * quiet ones on its loop wait (docs/flow-control.md, "CPU").
   */
  static final long TASK_QUANTUM_MS = Long.getLong("capstan.eventLoop.taskQuantumMs", 1);

  /** A group of event loops with named daemon threads and a short task quantum ({@link #TASK_QUANTUM_MS}). */
  public EventLoopGroup newGroup(int threads, String threadName) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadName, true), ioHandlerFactory) {
      @Override
      protected IoEventLoop newChild(Executor executor, IoHandlerFactory factory, Object... args) {
        return new SingleThreadIoEventLoop(this, executor, factory, Integer.MAX_VALUE,
            RejectedExecutionHandlers.reject(), TASK_QUANTUM_MS);
      }
    };
  }
}

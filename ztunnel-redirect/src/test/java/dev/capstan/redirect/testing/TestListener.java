package dev.capstan.redirect.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in listener, run as its own process inside a test namespace: {@code TestListener
 * transparent|plain <ip>:<port>:<tag>...}. It answers every connection with one HTTP/1.0 response
 * whose body is {@code <tag> <local address>} (for a TPROXYed connection: the pod's original
 * destination), then closes. Prints {@code READY} once every address is bound.
 */
public final class TestListener {

  private TestListener() {}

  public static void main(String[] args) throws Exception {
    boolean transparent = args[0].equals("transparent");
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    Channel last = null;
    for (int i = 1; i < args.length; i++) {
      String[] parts = args[i].split(":");
      String tag = parts[2];
      ServerBootstrap b = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              InetSocketAddress local = ch.localAddress();
              String body = tag + " " + local.getAddress().getHostAddress() + ":" + local.getPort();
              String response = "HTTP/1.0 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
              ch.writeAndFlush(Unpooled.copiedBuffer(response, StandardCharsets.US_ASCII))
                  .addListener(ChannelFutureListener.CLOSE);
            }
          });
      if (transparent) {
        b.option(EpollChannelOption.IP_TRANSPARENT, true);
      }
      last = b.bind(parts[0], Integer.parseInt(parts[1])).sync().channel();
    }
    System.out.println("READY");
    System.out.flush();
    if (last != null) {
      last.closeFuture().sync();
    }
  }
}

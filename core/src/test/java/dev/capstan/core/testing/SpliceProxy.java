package dev.capstan.core.testing;

import dev.capstan.core.io.BufferAccount;
import dev.capstan.core.io.Hold;
import dev.capstan.core.io.SocketSplice;
import dev.capstan.core.io.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A TCP proxy made of {@link SocketSplice} alone, wired as the node agent wires its plain paths:
 * auto-read off, half-closure allowed, a {@link Hold} on both sides; each accepted connection is
 * dialed to the upstream on its own event loop and spliced.
 */
public final class SpliceProxy {
  private SpliceProxy() {}

  /**
   * Listens on 127.0.0.1 (port 0) in front of {@code upstream}; returns the listening channel.
   *
   * @param listenOptions extra options of the listener (and its accepted sockets)
   * @param dialOptions extra options of the sockets dialed to the upstream
   * @param accounts the accounts of each new connection
   * @param onDone called with each connection's result
   */
  public static Channel listen(EventLoopGroup group, Transport transport, InetSocketAddress upstream,
      UnaryOperator<ServerBootstrap> listenOptions, UnaryOperator<Bootstrap> dialOptions,
      Supplier<BufferAccount.Pair> accounts, Consumer<SocketSplice.Result> onDone) {
    Bootstrap dial = dialOptions.apply(new Bootstrap().channel(transport.socketChannel())
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.AUTO_READ, false)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new Hold());
          }
        }));
    return listenOptions.apply(new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new Hold(), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelActive(ChannelHandlerContext ctx) {
                ctx.pipeline().remove(this);
                Channel downstream = ctx.channel();
                dial.clone().group(downstream.eventLoop()).connect(upstream).addListener(f -> {
                  if (!f.isSuccess()) {
                    downstream.close();
                    return;
                  }
                  SocketSplice.start(downstream, ((ChannelFuture) f).channel(), accounts.get(), onDone);
                });
              }
            });
          }
        }))
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }
}

package dev.capstan.core.testing;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneStreams;
import dev.capstan.core.io.Dial;
import dev.capstan.core.io.Splice;
import dev.capstan.core.io.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A stand-in destination agent for tests: records each CONNECT, dials where {@code target} says (as
 * the node agent does: from a task, D21; answer 503 if that fails), answers 200 and splices.
 */
public final class SpliceAcceptor implements HboneServer.Acceptor {

  private final Transport transport;
  private final Function<HboneServer.Request, InetSocketAddress> target;
  private final Consumer<HboneServer.Request> seen;
  private final Consumer<HboneServer.Refusal> refused;

  public SpliceAcceptor(Transport transport, Function<HboneServer.Request, InetSocketAddress> target,
      Consumer<HboneServer.Request> seen, Consumer<HboneServer.Refusal> refused) {
    this.transport = transport;
    this.target = target;
    this.seen = seen;
    this.refused = refused;
  }

  @Override
  public void accept(HboneServer.Request request) {
    seen.accept(request);
    Bootstrap dial = new Bootstrap().group(request.stream().eventLoop()).channel(transport.socketChannel())
        .option(ChannelOption.AUTO_READ, false).option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {}
        });
    Dial.connect(request.stream().eventLoop(), dial, target.apply(request), null).addListener(f -> {
      if (!f.isSuccess()) {
        HboneStreams.refuse(request.stream(), Hbone.SERVICE_UNAVAILABLE);
        return;
      }
      HboneStreams.accept(request.stream());
      Splice.start((Channel) f.getNow(), request.stream(), r -> {});
    });
  }

  @Override
  public void refused(HboneServer.Refusal refusal) {
    refused.accept(refusal);
  }
}

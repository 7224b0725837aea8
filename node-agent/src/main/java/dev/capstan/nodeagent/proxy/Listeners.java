package dev.capstan.nodeagent.proxy;

import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.io.Hold;
import dev.capstan.core.io.Transport;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.nodeagent.drain.Drain;
import dev.capstan.nodeagent.state.MeshIndex;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's listening sockets: the explicit proxy, the fixed upstream listeners, and HBONE on
 * each local workload IP (the certificate a connection presents is chosen by the address it was
 * made to). HBONE listeners follow the mesh: bound when a workload arrives on this node, closed
 * when it leaves.
 */
public final class Listeners {

  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);
  /** Socket watermarks of proxied connections: reading pauses above high, resumes below low. */
  public static final WriteBufferWaterMark WATERMARKS = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

  private final AgentConfig config;
  private final Transport transport;
  private final EventLoopGroup workers;
  private final Drain drain;
  private final Map<InetAddress, List<Channel>> hbone = new HashMap<>();
  private final Map<String, InetSocketAddress> bound = new java.util.concurrent.ConcurrentHashMap<>();

  public Listeners(AgentConfig config, Transport transport, EventLoopGroup workers, Drain drain) {
    this.config = config;
    this.transport = transport;
    this.workers = workers;
    this.drain = drain;
  }

  /** Addresses actually bound, by listener name (ports resolved when configured as 0). */
  public Map<String, InetSocketAddress> bound() {
    return Map.copyOf(bound);
  }

  /** Binds the explicit proxy and fixed upstream listeners; fails start-up if one cannot bind. */
  public void bindExplicit(Outbound outbound) throws InterruptedException {
    if (config.explicitProxy().isPresent()) {
      bind("explicit-proxy", config.explicitProxy().get(), ch -> ExplicitProxy.install(ch, outbound), true, true, false);
    }
    for (AgentConfig.Upstream u : config.upstreams()) {
      Outbound.Destination destination = new Outbound.Destination.ServiceName(u.service(), u.port());
      bind("upstream " + u.service() + ":" + u.port(), u.listen(), ch -> ch.pipeline().addLast(new Hold(), new ChannelInboundHandlerAdapter() {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
          ctx.pipeline().remove(this);
          outbound.proxy(ctx.channel(), destination, CLOSE_ON_FAILURE);
        }
      }), false, true, false);
    }
  }

  /**
   * Binds the three transparent listeners of capture mode ({@code IP_TRANSPARENT}, so TPROXYed
   * connections to any address are accepted and keep it as their local address): outbound from
   * this node's pods, plaintext inbound to them, and HBONE to them. Fails start-up if a listener
   * cannot bind or the kernel did not take the option (TPROXY would then fail open).
   */
  public void bindCapture(
      AgentConfig.Capture capture, Outbound outbound, Inbound inbound,
      HboneSettings settings, HboneServer.TlsSelector tls) throws InterruptedException {
    if (!transport.transparentCapable()) {
      throw new IllegalStateException("capture needs Netty's native epoll transport (IP_TRANSPARENT, SO_MARK), which did not load here");
    }
    List<Channel> opened = new ArrayList<>();
    try {
      opened.addAll(bind("outbound (transparent)", capture.outbound(),
          ch -> ch.pipeline().addLast(new Hold(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              ctx.pipeline().remove(this);
              // TPROXY keeps the pod's original destination as the accepted socket's local address.
              InetSocketAddress original = (InetSocketAddress) ctx.channel().localAddress();
              outbound.proxy(ctx.channel(), new Outbound.Destination.Address(original), CLOSE_ON_FAILURE);
            }
          }), false, true, true));
      opened.addAll(bind("inbound plaintext (transparent)", capture.inbound(),
          ch -> ch.pipeline().addLast(new Hold(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              ctx.pipeline().remove(this);
              inbound.acceptPlaintext(ctx.channel());
            }
          }), false, true, true));
      opened.addAll(bind("hbone (transparent)", capture.hbone(), c -> {
        drain.hboneConnection(c);
        c.pipeline().addLast(new HboneServer(tls, settings, inbound));
      }, true, false, true));
    } catch (RuntimeException | InterruptedException e) {
      // All or nothing: a retry binds the three again.
      opened.forEach(Channel::close);
      List.of("outbound (transparent)", "inbound plaintext (transparent)", "hbone (transparent)").forEach(bound::remove);
      throw e;
    }
  }

  /** Binds HBONE on the IPs of this node's workloads and closes it on IPs no longer local. */
  /** Returns the listeners that could not bind, as messages (empty when all are up). */
  public synchronized List<String> reconcileHbone(
      MeshIndex index, HboneSettings settings, HboneServer.TlsSelector tls, HboneServer.Acceptor acceptor) {
    List<String> failures = new ArrayList<>();
    Set<InetAddress> wanted = index.workloadsOn(config.node()).stream()
        .flatMap((Workload w) -> w.ips().stream())
        .map(ip -> dev.capstan.core.hbone.Hbone.literalIp(ip).orElseThrow())
        .collect(Collectors.toSet());
    for (var it = hbone.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!wanted.contains(e.getKey())) {
        LOG.info("HBONE listener on {} closed: no local workload there any more", e.getKey().getHostAddress());
        e.getValue().forEach(Channel::close);
        bound.remove("hbone " + e.getKey().getHostAddress());
        it.remove();
      }
    }
    for (InetAddress ip : wanted) {
      if (hbone.containsKey(ip)) {
        continue;
      }
      InetSocketAddress address = new InetSocketAddress(ip, config.hbonePort());
      try {
        List<Channel> ch = bind("hbone " + ip.getHostAddress(), address, c -> {
          drain.hboneConnection(c);
          c.pipeline().addLast(new HboneServer(tls, settings, acceptor));
        }, true, false, false);
        hbone.put(ip, ch);
      } catch (RuntimeException | InterruptedException e) {
        LOG.error("cannot listen for HBONE on {}: {} (is the port taken?)", address, e.getMessage());
        failures.add(address + ": " + e.getMessage());
      }
    }
    return failures;
  }

  /** Listener for fixed upstreams and transparent capture: close the connection on failure. */
  public static final Outbound.Handshake CLOSE_ON_FAILURE = new Outbound.Handshake() {
    @Override
    public void established(Channel downstream, io.netty.handler.codec.http2.Http2StreamChannel stream) {}

    @Override
    public void failed(Channel downstream, ProxyError error) {
      downstream.close();
    }
  };

  /**
   * Binds {@code address} once per event loop with SO_REUSEPORT (epoll): the kernel spreads new
   * connections over the loops, and each connection stays on the loop that accepted it, so no
   * connection is handed from an acceptor thread to a worker. With NIO, one listener feeds all
   * loops.
   */
  private List<Channel> bind(
      String name, InetSocketAddress address, Consumer<Channel> init, boolean autoRead, boolean proxied, boolean transparent)
      throws InterruptedException {
    boolean reusePort = transport.name().equals("epoll");
    List<Channel> channels = new ArrayList<>();
    InetSocketAddress target = address;
    List<io.netty.channel.EventLoop> acceptors = new ArrayList<>();
    if (reusePort) {
      workers.forEach(e -> acceptors.add((io.netty.channel.EventLoop) e));
    } else {
      acceptors.add(workers.next());
    }
    for (io.netty.channel.EventLoop acceptor : acceptors) {
      EventLoopGroup child = reusePort ? acceptor : workers;
      ServerBootstrap b = new ServerBootstrap()
          .group(acceptor, child)
          .channel(transport.serverChannel())
          .option(ChannelOption.SO_REUSEADDR, true)
          // Also lets a restarting agent bind its listeners before the old one closes them.
          .option(io.netty.channel.unix.UnixChannelOption.SO_REUSEPORT, reusePort)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.ALLOW_HALF_CLOSURE, proxied)
          .childOption(ChannelOption.AUTO_READ, autoRead)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATERMARKS)
          .childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              init.accept(ch);
            }
          });
      if (transparent) {
        b.option(EpollChannelOption.IP_TRANSPARENT, true);
      }
      Channel ch;
      try {
        ch = b.bind(target).sync().channel();
      } catch (RuntimeException | InterruptedException e) {
        channels.forEach(Channel::close);
        throw e;
      }
      drain.listener(ch);
      channels.add(ch);
      if (transparent && !Boolean.TRUE.equals(ch.config().getOption(EpollChannelOption.IP_TRANSPARENT))) {
        channels.forEach(Channel::close);
        throw new IllegalStateException(name + " on " + target + ": the kernel did not set IP_TRANSPARENT (needs CAP_NET_ADMIN);"
            + " without it TPROXY would bypass the agent");
      }
      // A port 0 request is now a concrete port: the other loops bind the same one.
      target = (InetSocketAddress) ch.localAddress();
    }
    bound.put(name, target);
    LOG.info("{} listening on {} ({} acceptor{})", name, target, channels.size(), channels.size() == 1 ? "" : "s");
    return channels;
  }

}

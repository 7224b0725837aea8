package dev.capstan.waypoint.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.hbone.OpenStreams;
import dev.capstan.core.identity.SpiffeId;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Connections from the waypoint to the endpoints it picks, shared by requests, per event loop (a
 * request's bytes never cross threads, the maps need no locks):
 *
 * <ul>
 *   <li>HBONE connections with the waypoint's identity to the endpoints' node agents, one per
 *       (destination identity, node agent address);
 *   <li>over them, <b>app connections</b>: a CONNECT stream to {@code <endpoint IP>:<port>} naming the
 *       client in {@code Forwarded}, carrying HTTP/1.1 (one exchange at a time, kept for the next
 *       when both sides allow it) or HTTP/2 (one inner stream per exchange, many at once). The
 *       destination agent dials the app from the client's address, so an app connection carries
 *       the requests of one client address only: {@link AppKey} holds it.
 * </ul>
 *
 * Idle app connections and HBONE connections without streams are closed after {@code idleTimeout}.
 */
final class Upstream {

  /** The protocol an app connection speaks. */
  /** HTTP/1.1 and HTTP/2 app connections are reused; a TCP one carries one client's connection only. */
  enum Protocol { HTTP1, HTTP2, TCP }

  /** What an HBONE connection is shared by. */
  record Key(SpiffeId destination, InetSocketAddress peer) {}

  /** What an app connection is shared by: the endpoint, the client address it is dialed from, the protocol. */
  record AppKey(Key hbone, InetSocketAddress endpoint, InetAddress client, Protocol protocol) {}

  /** What the upstream side tells the exchange it serves. Called on the channel's event loop. */
  interface Receiver {
    /** A response object (head, content, last content with trailers). */
    void received(HttpObject msg);

    /** The end of a batch of reads. */
    void readComplete();

    /** The channel can take more of the request. */
    void writable();

    /** The channel ended (closed, reset or failed) while this receiver held it; {@code cause} may be null. */
    void ended(Throwable cause);
  }

  /** One exchange's hold on an upstream channel; {@link #release} gives it back. */
  static final class Lease {
    private final Channel channel;
    private final boolean reused;
    private final Runnable giveBack;
    private boolean released;

    private Lease(Channel channel, boolean reused, Runnable giveBack) {
      this.channel = channel;
      this.reused = reused;
      this.giveBack = giveBack;
    }

    /** The channel: write the request's HTTP objects, {@code read()} for the response (auto-read is off). */
    Channel channel() {
      return channel;
    }

    /** Whether the channel carried an earlier exchange (a stale one may fail before answering). */
    boolean reused() {
      return reused;
    }

    /** The exchange is done with it: kept for the next one when {@code reusable}, else closed. */
    void release(boolean reusable) {
      if (released) {
        return;
      }
      released = true;
      Relay relay = channel.pipeline().get(Relay.class);
      if (relay != null) {
        relay.receiver = null;
      }
      if (reusable && channel.isActive()) {
        giveBack.run();
      } else {
        channel.close();
      }
    }
  }

  /** HTTP objects as HTTP/2 frames for upstream streams (stateless: one for all). */
  private static final Http2StreamFrameToHttpObjectCodec CLIENT_CODEC = new Http2StreamFrameToHttpObjectCodec(false);

  private final Bootstrap bootstrap;
  private final HboneSettings settings;
  private final int maxStreams;
  private final Duration idleTimeout;
  private final Map<EventLoop, Pools> byLoop = new ConcurrentHashMap<>();

  Upstream(Bootstrap bootstrap, HboneSettings settings, int maxStreams, Duration idleTimeout) {
    this.bootstrap = bootstrap;
    this.settings = settings;
    this.maxStreams = maxStreams;
    this.idleTimeout = idleTimeout;
  }

  /**
   * An upstream channel for one exchange to {@code key.endpoint()}, presenting {@code tls} and
   * requiring the peer to prove {@code key.hbone().destination()}; an idle one when there is one.
   * Call on {@code loop}; the lease's channel reports to {@code receiver} until released.
   */
  Future<Lease> lease(EventLoop loop, AppKey key, SslContext tls, Receiver receiver) {
    Pools pools = byLoop.computeIfAbsent(loop, l -> new Pools(l));
    Promise<Lease> promise = loop.newPromise();
    if (key.protocol() == Protocol.HTTP1) {
      ArrayDeque<Idle> idle = pools.idle.get(key);
      while (idle != null && !idle.isEmpty()) {
        Channel ch = idle.pollFirst().channel();
        if (ch.isActive()) {
          return promise.setSuccess(attach(ch, true, () -> pools.giveBack(key, ch), receiver));
        }
      }
      appStream(pools, key, tls).addListener(f -> {
        if (!f.isSuccess()) {
          promise.tryFailure(f.cause());
          return;
        }
        Http2StreamChannel ch = (Http2StreamChannel) f.getNow();
        ch.pipeline().addLast(new StreamBytes(), new HttpClientCodec(), new Relay());
        promise.trySuccess(attach(ch, false, () -> pools.giveBack(key, ch), receiver));
      });
      return promise;
    }
    List<H2> connections = pools.h2.computeIfAbsent(key, k -> new ArrayList<>());
    H2 h2 = null;
    for (H2 c : connections) {
      if (c.canOpen()) {
        h2 = c;
        break;
      }
    }
    if (h2 == null) {
      h2 = new H2(appStream(pools, key, tls), loop);
      connections.add(h2);
      H2 added = h2;
      h2.ready.addListener(f -> {
        if (!f.isSuccess()) {
          connections.remove(added);
        } else {
          added.stream.closeFuture().addListener(c -> connections.remove(added));
        }
      });
    }
    H2 chosen = h2;
    chosen.pending++;
    chosen.ready.addListener(f -> {
      chosen.pending--;
      if (!f.isSuccess()) {
        promise.tryFailure(f.cause());
        return;
      }
      boolean reused = chosen.used++ > 0;
      new Http2StreamChannelBootstrap(chosen.stream).handler(new ChannelInitializer<Http2StreamChannel>() {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
          OpenStreams.track(ch);
          ch.config().setAutoRead(false);
          // named: Netty would otherwise generate a name per stream, that is per request
          ch.pipeline().addLast("http", CLIENT_CODEC).addLast("relay", new Relay());
        }
      }).open().addListener(s -> {
        if (!s.isSuccess()) {
          promise.tryFailure(s.cause());
          return;
        }
        Channel ch = (Channel) s.getNow();
        chosen.lastUsed = System.nanoTime();
        promise.trySuccess(attach(ch, reused, () -> ch.close(), receiver)); // an inner stream ends with its exchange
      });
    });
    return promise;
  }

  private static Lease attach(Channel ch, boolean reused, Runnable giveBack, Receiver receiver) {
    ch.config().setAutoRead(false);
    ch.pipeline().get(Relay.class).receiver = receiver;
    return new Lease(ch, reused, giveBack);
  }

  /**
   * A CONNECT stream of its own to {@code key.endpoint()} for one client's opaque bytes (never
   * reused), over the loop's pooled HBONE connection to the endpoint's agent; auto-read off and
   * nothing in its pipeline. Call on {@code loop}.
   */
  Future<Http2StreamChannel> tunnel(EventLoop loop, AppKey key, SslContext tls) {
    return appStream(byLoop.computeIfAbsent(loop, l -> new Pools(l)), key, tls);
  }

  /** A CONNECT stream to the endpoint over a pooled HBONE connection. */
  private Future<Http2StreamChannel> appStream(Pools pools, AppKey key, SslContext tls) {
    Future<HboneConnection> current = pools.hbone.get(key.hbone());
    if (current == null || (current.isDone() && !(current.isSuccess() && current.getNow().acceptsStreams(maxStreams)))) {
      current = HboneConnection.connect(bootstrap.clone().group(pools.loop), key.hbone().peer(), tls,
          key.hbone().destination(), settings);
      pools.hbone.put(key.hbone(), current);
    }
    Promise<Http2StreamChannel> stream = pools.loop.newPromise();
    Future<HboneConnection> connection = current;
    Map<String, String> headers = Map.of(Hbone.FORWARDED.toString(), Hbone.forwardedFor(key.client()));
    connection.addListener(f -> {
      if (!f.isSuccess()) {
        pools.hbone.remove(key.hbone(), connection);
        stream.tryFailure(f.cause());
        return;
      }
      connection.getNow().open(Hbone.authority(key.endpoint()), headers).addListener(s -> {
        if (s.isSuccess()) {
          stream.trySuccess((Http2StreamChannel) s.getNow());
        } else {
          stream.tryFailure(s.cause());
        }
      });
    });
    return stream;
  }

  /** Closes every connection (at shutdown). */
  void closeAll() {
    byLoop.forEach((loop, pools) -> loop.execute(pools::closeAll));
  }

  /** The connections of one event loop. */
  private final class Pools {
    final EventLoop loop;
    final Map<Key, Future<HboneConnection>> hbone = new HashMap<>();
    final Map<AppKey, ArrayDeque<Idle>> idle = new HashMap<>();
    final Map<AppKey, List<H2>> h2 = new HashMap<>();

    Pools(EventLoop loop) {
      this.loop = loop;
      long every = Math.max(1, idleTimeout.toMillis() / 2);
      loop.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    }

    /** An HTTP/1.1 app connection done with its exchange: idle until the next one, or closed after the idle timeout. */
    void giveBack(AppKey key, Channel ch) {
      ch.config().setAutoRead(true); // an idle connection notices its peer closing (anything else read closes it)
      idle.computeIfAbsent(key, k -> new ArrayDeque<>()).addFirst(new Idle(ch, System.nanoTime()));
    }

    void sweep() {
      long now = System.nanoTime();
      long limit = idleTimeout.toNanos();
      for (Iterator<ArrayDeque<Idle>> it = idle.values().iterator(); it.hasNext(); ) {
        ArrayDeque<Idle> q = it.next();
        q.removeIf(i -> {
          boolean expired = now - i.since() > limit || !i.channel().isActive();
          if (expired) {
            i.channel().close();
          }
          return expired;
        });
        if (q.isEmpty()) {
          it.remove();
        }
      }
      for (List<H2> list : h2.values()) {
        for (H2 c : List.copyOf(list)) {
          if (c.idle() && now - c.lastUsed > limit) {
            list.remove(c);
            c.stream.close();
          }
        }
      }
      h2.values().removeIf(List::isEmpty);
      hbone.values().removeIf(f -> {
        if (!f.isDone()) {
          return false;
        }
        if (!f.isSuccess()) {
          return true;
        }
        HboneConnection c = f.getNow();
        boolean expired = !c.channel().isActive() || (c.activeStreams() == 0 && now - c.idleSinceNanos() > limit);
        if (expired) {
          c.close();
        }
        return expired;
      });
    }

    void closeAll() {
      idle.values().forEach(q -> q.forEach(i -> i.channel().close()));
      idle.clear();
      h2.values().forEach(list -> list.forEach(c -> {
        if (c.stream != null) {
          c.stream.close();
        }
      }));
      h2.clear();
      hbone.values().forEach(f -> {
        if (f.isSuccess()) {
          f.getNow().close();
        }
      });
      hbone.clear();
    }
  }

  private record Idle(Channel channel, long since) {}

  /** An HTTP/2 app connection: a CONNECT stream carrying the waypoint's HTTP/2 client connection to the app. */
  private static final class H2 {
    final Promise<Void> ready;
    Http2StreamChannel stream;
    Http2FrameCodec codec;
    int pending;
    long used;
    long lastUsed = System.nanoTime();

    H2(Future<Http2StreamChannel> opening, EventLoop loop) {
      ready = loop.newPromise();
      opening.addListener(f -> {
        if (!f.isSuccess()) {
          ready.tryFailure(f.cause());
          return;
        }
        stream = (Http2StreamChannel) f.getNow();
        codec = Http2FrameCodecBuilder.forClient()
            .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
            .build();
        stream.pipeline().addLast(new StreamBytes(), codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        stream.config().setAutoRead(true);
        ready.trySuccess(null);
      });
    }

    /** Whether another exchange can start on it now (or when it is ready). */
    boolean canOpen() {
      if (!ready.isDone()) {
        return pending < 100;
      }
      return ready.isSuccess() && stream.isActive() && codec.connection().goAwayReceived() == false
          && codec.connection().local().numActiveStreams() + pending < codec.connection().local().maxActiveStreams();
    }

    boolean idle() {
      return ready.isDone() && (!ready.isSuccess() || codec.connection().numActiveStreams() == 0) && pending == 0;
    }
  }

  /** Last in an upstream channel's pipeline: passes what it reads to the exchange holding the channel. */
  static final class Relay extends ChannelInboundHandlerAdapter {
    private Receiver receiver;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Receiver r = receiver;
      if (r == null || !(msg instanceof HttpObject)) {
        ReferenceCountUtil.release(msg);
        ctx.close(); // nothing was asked of an idle connection
        return;
      }
      r.received((HttpObject) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Receiver r = receiver;
      if (r != null) {
        r.readComplete();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      Receiver r = receiver;
      if (r != null && ctx.channel().isWritable()) {
        r.writable();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ctx.close(); // the app ended its side: this connection carries nothing more
        return;
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Receiver r = receiver;
      receiver = null;
      if (r != null) {
        r.ended(null);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Receiver r = receiver;
      receiver = null;
      if (r != null) {
        r.ended(cause);
      }
      ctx.close();
    }
  }
}

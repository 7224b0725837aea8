package dev.capstan.waypoint.proxy;

import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HBONE connections from the waypoint, with its own identity, to the node agents of the endpoints
 * it picks: one connection per (destination identity, node agent address) and event loop, shared by
 * the streams of every request to it. A stream is opened on the event loop of the request it
 * carries, so a request's bytes never cross threads and the maps need no locks.
 */
final class Upstream {

  /** What a connection is shared by. */
  record Key(SpiffeId destination, InetSocketAddress peer) {}

  private final Bootstrap bootstrap;
  private final HboneSettings settings;
  private final int maxStreams;
  private final Map<EventLoop, Map<Key, Future<HboneConnection>>> byLoop = new ConcurrentHashMap<>();

  Upstream(Bootstrap bootstrap, HboneSettings settings, int maxStreams) {
    this.bootstrap = bootstrap;
    this.settings = settings;
    this.maxStreams = maxStreams;
  }

  /**
   * A CONNECT stream to {@code authority} through {@code key.peer()}, presenting {@code tls} and
   * requiring the peer to prove {@code key.destination()}. Call on {@code loop}.
   */
  Future<Http2StreamChannel> open(
      EventLoop loop, Key key, SslContext tls, String authority, Map<String, String> headers) {
    Map<Key, Future<HboneConnection>> connections = byLoop.computeIfAbsent(loop, l -> new HashMap<>());
    Future<HboneConnection> current = connections.get(key);
    if (current == null || (current.isDone() && !(current.isSuccess() && current.getNow().acceptsStreams(maxStreams)))) {
      current = HboneConnection.connect(bootstrap.clone().group(loop), key.peer(), tls, key.destination(), settings);
      connections.put(key, current);
    }
    Promise<Http2StreamChannel> stream = loop.newPromise();
    Future<HboneConnection> connection = current;
    connection.addListener(f -> {
      if (!f.isSuccess()) {
        connections.remove(key, connection);
        stream.tryFailure(f.cause());
        return;
      }
      connection.getNow().open(authority, headers).addListener(s -> {
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
    byLoop.forEach((loop, connections) -> loop.execute(() -> {
      connections.values().forEach(f -> {
        if (f.isSuccess()) {
          f.getNow().close();
        }
      });
      connections.clear();
    }));
  }
}

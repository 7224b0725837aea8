package dev.capstan.nodeagent.proxy;

import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.BufferAccount;
import dev.capstan.nodeagent.config.AgentConfig.PoolConfig;
import dev.capstan.nodeagent.metrics.ProxyMetrics;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * HBONE connections to peer agents, shared by many tunnels: a new connection through the mesh is a
 * new HTTP/2 stream, not a TLS handshake.
 *
 * <p>Connections are keyed by (source identity, destination identity, destination node) and kept
 * per event loop: a tunnel uses a connection on the event loop of the connection it carries, so a
 * proxied connection's bytes never cross threads and the pool needs no locks. A connection takes
 * streams up to {@code maxStreamsPerConnection} (and the peer's limit), then another opens; while
 * one is being established, callers for the same key wait for it rather than dial their own. A
 * connection without streams closes after {@code idleTimeout}.
 */
public final class Pool {

  /** What a pooled connection is shared by. */
  public record Key(SpiffeId source, SpiffeId destination, String node) {}

  private final Bootstrap bootstrap;
  private final HboneSettings settings;
  private final PoolConfig config;
  private final ProxyMetrics metrics;
  private final Map<EventLoop, Shard> shards = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();
  private final Function<Key, BufferAccount> queueAccounts;

  /** {@code bootstrap} carries the channel type and socket options; the pool picks the event loop. */
  public Pool(Bootstrap bootstrap, HboneSettings settings, PoolConfig config, ProxyMetrics metrics) {
    this(bootstrap, settings, config, metrics, key -> BufferAccount.UNLIMITED);
  }

  /**
   * As {@link #Pool(Bootstrap, HboneSettings, PoolConfig, ProxyMetrics)}; the DATA waiting in a
   * connection's streams is charged to {@code queueAccounts.apply(key)} (closed with the connection).
   */
  public Pool(Bootstrap bootstrap, HboneSettings settings, PoolConfig config, ProxyMetrics metrics,
      Function<Key, BufferAccount> queueAccounts) {
    this.queueAccounts = queueAccounts;
    this.bootstrap = bootstrap;
    this.settings = settings;
    this.config = config;
    this.metrics = metrics;
    metrics.gauge("capstan_hbone_pool_connections", "HBONE client connections open", open::get);
  }

  /**
   * A CONNECT stream to {@code authority} through a pooled connection to {@code dial}. Must be
   * called on {@code loop}; the future completes there.
   */
  public Future<Http2StreamChannel> stream(
      EventLoop loop, Key key, SslContext clientTls, InetSocketAddress dial, String authority, Map<String, String> headers) {
    return shards.computeIfAbsent(loop, Shard::new).stream(key, clientTls, dial, authority, headers);
  }

  /** Open connections across all event loops (for tests and the config dump). */
  public int openConnections() {
    return open.get();
  }

  /** Closes every pooled connection (at the end of a drain). */
  public void closeAll() {
    shards.values().forEach(s -> s.loop.execute(s::closeAll));
  }

  private final class Shard {
    private final EventLoop loop;
    private final Map<Key, Entry> entries = new HashMap<>();

    Shard(EventLoop loop) {
      this.loop = loop;
    }

    Future<Http2StreamChannel> stream(
        Key key, SslContext tls, InetSocketAddress dial, String authority, Map<String, String> headers) {
      Entry entry = entries.computeIfAbsent(key, k -> new Entry());
      for (HboneConnection c : entry.connections) {
        if (c.acceptsStreams(config.maxStreamsPerConnection())) {
          return open(c, authority, headers);
        }
      }
      Promise<Http2StreamChannel> result = loop.newPromise();
      if (entry.pending == null) {
        entry.pending = HboneConnection.connect(
            bootstrap.clone().group(loop), dial, tls, key.destination(), settings, queueAccounts.apply(key));
        Future<HboneConnection> pending = entry.pending;
        pending.addListener(f -> {
          if (entry.pending == pending) {
            entry.pending = null;
          }
          if (f.isSuccess()) {
            add(key, entry, pending.getNow());
          }
        });
      }
      entry.pending.addListener(f -> {
        if (!f.isSuccess()) {
          result.tryFailure(f.cause());
          return;
        }
        // Try again: the new connection, or another if it filled up meanwhile.
        stream(key, tls, dial, authority, headers).addListener(s -> {
          if (s.isSuccess()) {
            if (!result.trySuccess((Http2StreamChannel) s.getNow())) {
              ((Http2StreamChannel) s.getNow()).close();
            }
          } else {
            result.tryFailure(s.cause());
          }
        });
      });
      return result;
    }

    private void add(Key key, Entry entry, HboneConnection c) {
      entry.connections.add(c);
      open.incrementAndGet();
      metrics.hboneConnectionOpened();
      c.channel().closeFuture().addListener(f -> {
        open.decrementAndGet();
        entry.connections.remove(c);
        if (entry.connections.isEmpty() && entry.pending == null) {
          entries.remove(key, entry);
        }
      });
      scheduleIdleCheck(c);
    }

    private Future<Http2StreamChannel> open(HboneConnection c, String authority, Map<String, String> headers) {
      Future<Http2StreamChannel> f = c.open(authority, headers);
      f.addListener(s -> {
        if (s.isSuccess()) {
          ((Http2StreamChannel) s.getNow()).closeFuture().addListener(x -> scheduleIdleCheck(c));
        } else {
          scheduleIdleCheck(c);
        }
      });
      return f;
    }

    private void scheduleIdleCheck(HboneConnection c) {
      if (c.activeStreams() > 0) {
        return;
      }
      long timeout = config.idleTimeout().toNanos();
      loop.schedule(() -> {
        if (c.activeStreams() == 0 && System.nanoTime() - c.idleSinceNanos() >= timeout) {
          c.close();
        }
      }, timeout, TimeUnit.NANOSECONDS);
    }

    void closeAll() {
      List.copyOf(entries.values()).forEach(e -> List.copyOf(e.connections).forEach(HboneConnection::close));
    }
  }

  private static final class Entry {
    final List<HboneConnection> connections = new ArrayList<>(2);
    Future<HboneConnection> pending;
  }
}

package dev.capstan.nodeagent.drain;

import dev.capstan.core.hbone.HboneServer;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tracks what must be drained: listening sockets, inbound HBONE connections and proxied
 * connections. {@link #drain} closes the listeners, sends GOAWAY on inbound HBONE connections so
 * peers open new streams elsewhere, waits for proxied connections to finish until the deadline,
 * then closes what is left.
 */
public final class Drain {

  private static final Logger LOG = LoggerFactory.getLogger(Drain.class);

  /** How long HBONE connections stay up after GOAWAY, at least (capped by the drain deadline). */
  static final Duration GOAWAY_GRACE = Duration.ofSeconds(1);

  private final ChannelGroup listeners = new DefaultChannelGroup("listeners", GlobalEventExecutor.INSTANCE);
  private final ChannelGroup hboneConnections = new DefaultChannelGroup("hbone", GlobalEventExecutor.INSTANCE);
  private final ChannelGroup proxied = new DefaultChannelGroup("proxied", GlobalEventExecutor.INSTANCE);
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();

  public void listener(Channel serverChannel) {
    listeners.add(serverChannel);
  }

  public void hboneConnection(Channel connection) {
    hboneConnections.add(connection);
  }

  /** A proxied connection began; it counts until {@code channel} closes. */
  public void proxied(Channel channel) {
    active.incrementAndGet();
    proxied.add(channel);
    channel.closeFuture().addListener(f -> active.decrementAndGet());
  }

  public int activeConnections() {
    return active.get();
  }

  public boolean draining() {
    return draining.get();
  }

  /** Drains; the future completes when every proxied connection ended or the deadline passed. */
  public CompletableFuture<Void> drain(Duration deadline) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (!draining.compareAndSet(false, true)) {
      done.complete(null);
      return done;
    }
    LOG.info("draining: listeners closed, {} connections may finish within {}", active.get(), deadline);
    listeners.close().awaitUninterruptibly();
    hboneConnections.forEach(HboneServer::goAway);
    long now = System.nanoTime();
    long end = now + deadline.toNanos();
    // Streams a peer opened before our GOAWAY reached it are still on their way: keep the HBONE
    // connections up for a moment even when nothing is active, so they are served, not cut.
    long grace = now + Math.min(deadline.toNanos(), GOAWAY_GRACE.toNanos());
    Thread waiter = new Thread(() -> {
      try {
        while ((active.get() > 0 || System.nanoTime() < grace) && System.nanoTime() < end) {
          TimeUnit.MILLISECONDS.sleep(50);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      int left = active.get();
      if (left > 0) {
        LOG.warn("drain deadline {} passed; closing {} connections", deadline, left);
      } else {
        LOG.info("drained: every connection finished");
      }
      proxied.close().awaitUninterruptibly();
      hboneConnections.close().awaitUninterruptibly();
      done.complete(null);
    }, "capstan-drain");
    waiter.setDaemon(true);
    waiter.start();
    return done;
  }
}

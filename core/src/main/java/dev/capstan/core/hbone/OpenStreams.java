package dev.capstan.core.hbone;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Closes a connection's streams when the connection closes.
 *
 * <p>Netty ends a stream whose connection went away only once the stream has read what it had
 * queued: a stream with auto-read off (a splice waiting for its socket to drain, a request waiting
 * for its upstream) would stay open forever, its queued DATA never released and its splice never
 * told. Closing it releases the queue and fires {@code channelInactive} down its pipeline.
 * Everything runs on the connection's event loop, which its streams share.
 */
public final class OpenStreams {

  private static final AttributeKey<Set<Http2StreamChannel>> KEY = AttributeKey.valueOf("capstan.openStreams");

  private OpenStreams() {}

  /** Tracks {@code stream} (from its initializer) until it closes; closes it if its connection closes first. */
  public static void track(Http2StreamChannel stream) {
    Channel connection = stream.parent();
    Set<Http2StreamChannel> open = connection.attr(KEY).get();
    if (open == null) {
      Set<Http2StreamChannel> created = Collections.newSetFromMap(new IdentityHashMap<>());
      connection.attr(KEY).set(created);
      connection.closeFuture().addListener(f -> connection.eventLoop().execute(() -> closeAll(created)));
      open = created;
    }
    if (!connection.isOpen()) {
      stream.close();
      return;
    }
    Set<Http2StreamChannel> streams = open;
    streams.add(stream);
    stream.closeFuture().addListener(f -> streams.remove(stream));
  }

  private static void closeAll(Set<Http2StreamChannel> streams) {
    for (Http2StreamChannel stream : new ArrayList<>(streams)) {
      stream.close();
    }
    streams.clear();
  }
}

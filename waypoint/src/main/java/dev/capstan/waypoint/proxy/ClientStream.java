package dev.capstan.waypoint.proxy;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;

/**
 * The client's side of one request as its {@link Exchange} answers it: an HTTP/1.1 stream
 * ({@link RequestReader}) or one inner stream of an HTTP/2 connection ({@link Http2Requests}).
 * The exchange writes HTTP objects; the stream says when it can take more and reads more of the
 * request when {@link #demand asked}.
 */
interface ClientStream {

  /** Whether the client speaks HTTP/2 (this is one inner stream) rather than HTTP/1.1. */
  boolean http2();

  /** The event loop of the client's connection, where the exchange runs. */
  EventLoop eventLoop();

  /** Whether the client can still be answered on this stream. */
  boolean isActive();

  /** Whether the client can take more of the response now (else {@link Exchange#clientWritable} follows). */
  boolean isWritable();

  /** Writes part of the response (taking ownership of {@code msg}); sent at the next flush. */
  void write(HttpObject msg);

  /** Writes part of the response and sends what was written. */
  default void writeAndFlush(HttpObject msg) {
    write(msg);
    flush();
  }

  /** Sends what was written. */
  void flush();

  /** Ends the stream short: the answer cannot be completed (HTTP/1.1 closes, HTTP/2 resets the stream). */
  void close();

  /** Reads more when there is no request yet, or the exchange wants more of its body. */
  void demand();

  /** {@code exchange} is over: the next request is read, or the stream ends. */
  void done(Exchange exchange, boolean keepAlive);
}

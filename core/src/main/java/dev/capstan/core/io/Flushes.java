package dev.capstan.core.io;

import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * Where many requests share one channel (an HBONE connection, an app socket carrying HTTP/2, an
 * inner HTTP/2 connection in a tunnel), their flushes are merged into one per event-loop turn:
 * a flush made during the channel's own read waits for the read to complete, one made from
 * another channel's read runs at the end of the turn (one task), or at once after 256. Each flush
 * that reaches a socket is a write syscall and a TCP segment (decisions.md D26).
 */
public final class Flushes {
  private Flushes() {}

  /** A new handler merging the flushes of one channel per event-loop turn; put it nearest the head. */
  public static FlushConsolidationHandler perTurn() {
    return new FlushConsolidationHandler(256, true);
  }
}

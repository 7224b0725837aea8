package dev.capstan.core.hbone;

import java.time.Duration;

/**
 * HTTP/2 tuning of HBONE connections, both sides.
 *
 * @param streamWindow initial flow-control window of each stream, in bytes: the most a paused
 *     stream can have in flight towards its reader
 * @param connectionWindow flow-control window of the whole connection, in bytes
 * @param maxFrameSize largest DATA frame we accept
 * @param maxConcurrentStreams most streams a peer may open on one connection
 * @param handshakeTimeout TLS handshake deadline
 */
public record HboneSettings(
    int streamWindow, int connectionWindow, int maxFrameSize, int maxConcurrentStreams, Duration handshakeTimeout) {

  /** Defaults sized for a node carrying many pods on a low-latency network. */
  public static HboneSettings defaults() {
    return new HboneSettings(1 << 20, 16 << 20, 1 << 16, 1000, Duration.ofSeconds(10));
  }

  public HboneSettings {
    if (streamWindow < 65_535 || connectionWindow < streamWindow) {
      throw new IllegalArgumentException("HBONE windows must be >= 65535 and connection >= stream");
    }
    if (maxFrameSize < 16_384 || maxFrameSize > 16_777_215) {
      throw new IllegalArgumentException("HBONE max frame size out of range: " + maxFrameSize);
    }
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException("HBONE max concurrent streams must be positive");
    }
  }
}

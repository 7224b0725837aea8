package dev.capstan.cli.transparent;

import dev.capstan.cli.demo.Frontend;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * What the frontend pod's process tells the demo, one line each on its standard output: {@code
 * capstan-frontend } and a JSON object with one of {@code warmUp} (whether every warm-up request
 * succeeded), {@code progress} (a {@link Frontend.Progress}) or {@code result} (a {@link
 * Frontend.Result}, its latency histogram in HdrHistogram's compressed encoding, base64). And the
 * commands the demo gives it, one JSON file each: {@code {"op": "warmUp", ...}} then {@code {"op":
 * "run", ...}}.
 */
final class FrontendReport {
  /** The start of every report line (anything else in the process's output is not a report). */
  static final String MARK = "capstan-frontend ";

  private FrontendReport() {}

  static String warmedUp(boolean ok) {
    return MARK + new JsonObject().put("warmUp", ok).encode();
  }

  static String progress(Frontend.Progress p) {
    return MARK + new JsonObject().put("progress", new JsonObject()
        .put("second", p.second()).put("requests", p.requests()).put("ok", p.ok()).put("failed", p.failed())
        .put("intervalRequests", p.intervalRequests()).put("intervalP99Millis", p.intervalP99Millis())
        .put("versions", counts(p.versions()))).encode();
  }

  static String result(Frontend.Result r) {
    ByteBuffer buffer = ByteBuffer.allocate(r.latencyMicros().getNeededByteBufferCapacity());
    int length = r.latencyMicros().encodeIntoCompressedByteBuffer(buffer);
    return MARK + new JsonObject().put("result", new JsonObject()
        .put("requests", r.requests()).put("ok", r.ok()).put("failed", r.failed())
        .put("latencyMicros", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length)))
        .put("versions", counts(r.versions())).put("failures", counts(r.failures()))
        .put("elapsedNanos", r.elapsed().toNanos())).encode();
  }

  /** The JSON of a report line, or empty for any other line. */
  static Optional<JsonObject> parse(String line) {
    if (!line.startsWith(MARK)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new JsonObject(line.substring(MARK.length())));
    } catch (DecodeException e) {
      return Optional.empty();
    }
  }

  static Frontend.Progress toProgress(JsonObject p) {
    return new Frontend.Progress(p.getInteger("second"), p.getLong("requests"), p.getLong("ok"), p.getLong("failed"),
        p.getLong("intervalRequests"), p.getDouble("intervalP99Millis"), counts(p.getJsonObject("versions")));
  }

  static Frontend.Result toResult(JsonObject r) {
    Histogram latency;
    try {
      latency = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(r.getString("latencyMicros"))), 0);
    } catch (DataFormatException | IllegalArgumentException e) {
      throw new IllegalStateException("the frontend's latency histogram does not decode: " + e.getMessage(), e);
    }
    return new Frontend.Result(r.getLong("requests"), r.getLong("ok"), r.getLong("failed"), latency,
        counts(r.getJsonObject("versions")), counts(r.getJsonObject("failures")), Duration.ofNanos(r.getLong("elapsedNanos")));
  }

  static JsonObject warmUpCommand(int requests, Duration within) {
    return new JsonObject().put("op", "warmUp").put("requests", requests).put("withinMillis", within.toMillis());
  }

  static JsonObject runCommand(Duration duration, int connections, int rate) {
    return new JsonObject().put("op", "run").put("durationMillis", duration.toMillis()).put("connections", connections)
        .put("rate", rate);
  }

  private static JsonObject counts(Map<String, Long> counts) {
    JsonObject o = new JsonObject();
    counts.forEach(o::put);
    return o;
  }

  private static Map<String, Long> counts(JsonObject o) {
    Map<String, Long> out = new TreeMap<>();
    for (String key : o.fieldNames()) {
      out.put(key, o.getLong(key));
    }
    return out;
  }
}

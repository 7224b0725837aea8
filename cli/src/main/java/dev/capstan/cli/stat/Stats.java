package dev.capstan.cli.stat;

import dev.capstan.cli.remote.Prometheus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Rows from two scrapes: every counter's increase between them (a counter that went down was
 * reset, so its whole value counts, as PromQL's {@code increase} does), divided by the seconds
 * between them, summed per workload (node agents' {@code istio_tcp_*}) and per service (waypoints'
 * {@code istio_requests_total}, {@code istio_request_duration_milliseconds} buckets and {@code
 * istio_request_bytes}/{@code istio_response_bytes}).
 */
public final class Stats {

  static final String OPENED = "istio_tcp_connections_opened_total";
  static final String CLOSED = "istio_tcp_connections_closed_total";
  /** Bytes from the connection's source to its destination (the agents count them when it closes). */
  static final String SENT = "istio_tcp_sent_bytes_total";
  /** Bytes from the destination back to the source. */
  static final String RECEIVED = "istio_tcp_received_bytes_total";
  static final String REQUESTS = "istio_requests_total";
  static final String DURATION_MS = "istio_request_duration_milliseconds_bucket";
  /** The same histogram as Micrometer names it when the timer's base unit (seconds) is appended. */
  static final String DURATION_S = "istio_request_duration_milliseconds_seconds_bucket";
  static final String REQUEST_BYTES = "istio_request_bytes_sum";
  static final String RESPONSE_BYTES = "istio_response_bytes_sum";

  /** Whose side of a TCP connection a row takes: the destination's (inbound, the default) or the source's (outbound). */
  public enum Reporter { DESTINATION, SOURCE }

  /** One scrape target's samples. */
  public record Scrape(String target, List<Prometheus.Sample> samples) {}

  private Stats() {}

  /**
   * The rows, sorted by namespace, name and kind.
   *
   * @param before the first scrape of each target
   * @param after the second scrape of the same targets
   * @param seconds time between them
   * @param namespace only rows of this namespace, when present
   */
  public static List<Row> rows(List<Scrape> before, List<Scrape> after, double seconds, Reporter reporter, Optional<String> namespace) {
    if (seconds <= 0) {
      throw new IllegalArgumentException("the window must be longer than 0 s, got " + seconds);
    }
    Map<String, Double> previous = new HashMap<>();
    for (Scrape s : before) {
      for (Prometheus.Sample sample : s.samples()) {
        previous.put(series(s.target(), sample), sample.value());
      }
    }
    Map<Key, Tcp> tcp = new TreeMap<>();
    Map<Key, HttpCounts> http = new TreeMap<>();
    String side = reporter == Reporter.DESTINATION ? "destination" : "source";
    for (Scrape s : after) {
      for (Prometheus.Sample sample : s.samples()) {
        double now = sample.value();
        double then = previous.getOrDefault(series(s.target(), sample), 0.0);
        double increase = now >= then ? now - then : now;
        String name = sample.name();
        if (name.startsWith("istio_tcp_")) {
          if (!sample.label("reporter").equals(side)) {
            continue;
          }
          Key key = new Key(sample.label(side + "_workload_namespace"), sample.label(side + "_workload"), "workload");
          Tcp t = tcp.computeIfAbsent(key, k -> new Tcp());
          switch (name) {
            case OPENED:
              t.opened += increase;
              t.openedTotal += now;
              break;
            case CLOSED:
              t.closedTotal += now;
              break;
            case SENT:
              t.sent += increase;
              break;
            case RECEIVED:
              t.received += increase;
              break;
            default:
              break;
          }
        } else if (name.startsWith("istio_request") || name.startsWith("istio_response")) {
          Key key = new Key(sample.label("destination_service_namespace"), sample.label("destination_service_name"), "service");
          switch (name) {
            case REQUESTS:
              HttpCounts h = http.computeIfAbsent(key, k -> new HttpCounts());
              h.requests += increase;
              if (serverError(sample.label("response_code"))) {
                h.failed += increase;
              }
              break;
            case DURATION_MS:
              bucket(http.computeIfAbsent(key, k -> new HttpCounts()), sample.label("le"), 1, increase);
              break;
            case DURATION_S:
              bucket(http.computeIfAbsent(key, k -> new HttpCounts()), sample.label("le"), 1000, increase);
              break;
            case REQUEST_BYTES:
              http.computeIfAbsent(key, k -> new HttpCounts()).in += increase;
              break;
            case RESPONSE_BYTES:
              http.computeIfAbsent(key, k -> new HttpCounts()).out += increase;
              break;
            default:
              break;
          }
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    tcp.forEach((k, t) -> {
      // Sent is the source-to-destination direction: into a destination workload, out of a source one.
      double in = reporter == Reporter.DESTINATION ? t.sent : t.received;
      double out = reporter == Reporter.DESTINATION ? t.received : t.sent;
      rows.add(new Row(k.namespace(), k.name(), k.kind(), null, null, null, null, t.opened / seconds,
          Math.max(0, Math.round(t.openedTotal - t.closedTotal)), in / seconds, out / seconds));
    });
    http.forEach((k, h) -> rows.add(new Row(k.namespace(), k.name(), k.kind(), h.requests / seconds,
        h.requests > 0 ? 100.0 * (h.requests - h.failed) / h.requests : null,
        Histograms.quantile(0.5, h.buckets), Histograms.quantile(0.99, h.buckets), null, null, h.in / seconds, h.out / seconds)));
    return rows.stream()
        .filter(r -> namespace.isEmpty() || r.namespace().equals(namespace.get()))
        .sorted(java.util.Comparator.comparing(Row::namespace).thenComparing(Row::name).thenComparing(Row::kind))
        .toList();
  }

  private static boolean serverError(String code) {
    return code.length() == 3 && code.charAt(0) == '5';
  }

  private static void bucket(HttpCounts h, String le, double toMillis, double increase) {
    double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le) * toMillis;
    h.buckets.merge(bound, increase, Double::sum);
  }

  private static String series(String target, Prometheus.Sample s) {
    return target + ' ' + s.name() + ' ' + s.labels();
  }

  private record Key(String namespace, String name, String kind) implements Comparable<Key> {
    @Override
    public int compareTo(Key o) {
      int c = namespace.compareTo(o.namespace);
      c = c != 0 ? c : name.compareTo(o.name);
      return c != 0 ? c : kind.compareTo(o.kind);
    }
  }

  private static final class Tcp {
    double opened;
    double openedTotal;
    double closedTotal;
    double sent;
    double received;
  }

  private static final class HttpCounts {
    double requests;
    double failed;
    double in;
    double out;
    final TreeMap<Double, Double> buckets = new TreeMap<>();
  }
}

package dev.capstan.waypoint.telemetry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per request: Istio's HTTP metrics ({@code istio_requests_total}, {@code
 * istio_request_duration_milliseconds}, {@code istio_request_bytes}, {@code istio_response_bytes}
 * with {@code reporter="waypoint"}, source and destination labels and the response code), and one
 * access log line. Meters are looked up once per label set.
 */
public final class RequestTelemetry {

  private static final Logger LOG = LoggerFactory.getLogger(RequestTelemetry.class);
  private static final Logger ACCESS = LoggerFactory.getLogger("capstan.access");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One request as it ended.
   *
   * @param start when its head was read
   * @param duration until its response was written (or it failed)
   * @param source the original client ({@code Forwarded}) as {@code ip:port}
   * @param sourcePrincipal the SPIFFE ID of the agent's tunnel (the client's identity)
   * @param method method
   * @param authority {@code Host} as received
   * @param path path as received
   * @param status response status sent
   * @param service destination service ({@code namespace/name})
   * @param route the route's {@code namespace/name}, or empty when none applied
   * @param backend the backend service chosen, or empty
   * @param endpoint the endpoint's {@code ip:port}, or empty
   * @param requestBytes request body bytes
   * @param responseBytes response body bytes
   * @param traceId the trace the request belongs to
   * @param flag why the waypoint answered itself ({@code no_route}, {@code upstream_timeout}...), or empty
   */
  public record Entry(
      Instant start, Duration duration, String source, String sourcePrincipal, String method, String authority, String path,
      int status, String service, String route, String backend, String endpoint, long requestBytes, long responseBytes,
      String traceId, String flag) {}

  private record Labels(String sourcePrincipal, String service, int code) {}

  private record Meters(Counter requests, DistributionSummary duration, DistributionSummary requestBytes, DistributionSummary responseBytes) {}

  /** Istio's buckets for request durations (ms): fixed, so dashboards built for Istio read them, and cheap per request. */
  private static final double[] ISTIO_BUCKETS = {
      0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

  private final MeterRegistry registry;
  private final Consumer<Entry> log;
  private final Map<Labels, Meters> meters = new ConcurrentHashMap<>();

  /** Logs each entry as a JSON line to the {@code capstan.access} logger. */
  public RequestTelemetry(MeterRegistry registry) {
    this(registry, RequestTelemetry::logJson);
  }

  /** {@code log} receives each entry (tests collect them). */
  public RequestTelemetry(MeterRegistry registry, Consumer<Entry> log) {
    this.registry = registry;
    this.log = log;
  }

  /**
   * Counts an HTTP/2 connection a client broke (RFC 9113 connection error) and logs why:
   * {@code capstan_waypoint_connection_errors_total{protocol, error}}.
   */
  public void connectionError(String protocol, String error, String source, String detail) {
    Counter.builder("capstan_waypoint_connection_errors_total")
        .description("client connections ended for breaking the protocol, by error code")
        .tags("protocol", protocol, "error", error).register(registry).increment();
    LOG.warn("{} connection from {} ended with GOAWAY {}: {}", protocol, source, error, detail);
  }

  /**
   * A TCP connection (opaque bytes: the app's own TLS, or a TCP port) the waypoint passes on:
   * Istio's {@code istio_tcp_connections_opened_total}, and at its end {@code
   * istio_tcp_connections_closed_total}, {@code istio_tcp_received_bytes_total} (from the client)
   * and {@code istio_tcp_sent_bytes_total} (to it), with {@code reporter="waypoint"}.
   */
  public void tcpOpened(String sourcePrincipal, String service) {
    Counter.builder("istio_tcp_connections_opened_total").tags(tcpTags(sourcePrincipal, service)).register(registry).increment();
  }

  /** The end of a connection {@link #tcpOpened} counted, with its bytes each way; one log line. */
  public void tcpClosed(String sourcePrincipal, String service, String source, String endpoint, long received, long sent) {
    Tags tags = tcpTags(sourcePrincipal, service);
    Counter.builder("istio_tcp_connections_closed_total").tags(tags).register(registry).increment();
    Counter.builder("istio_tcp_received_bytes_total").tags(tags).register(registry).increment(received);
    Counter.builder("istio_tcp_sent_bytes_total").tags(tags).register(registry).increment(sent);
    if (ACCESS.isInfoEnabled()) {
      ObjectNode n = JSON.createObjectNode();
      n.put("protocol", "tcp");
      n.put("source", source);
      n.put("source_principal", sourcePrincipal);
      n.put("service", service);
      n.put("endpoint", endpoint);
      n.put("received_bytes", received);
      n.put("sent_bytes", sent);
      ACCESS.info(n.toString());
    }
  }

  private static Tags tcpTags(String sourcePrincipal, String service) {
    String[] dst = service.split("/", 2);
    return Tags.of("reporter", "waypoint", "source_principal", sourcePrincipal,
        "destination_service_namespace", dst[0], "destination_service_name", dst.length > 1 ? dst[1] : "", "request_protocol", "tcp");
  }

  /** Records one finished request. */
  public void record(Entry e) {
    Meters m = meters.computeIfAbsent(new Labels(e.sourcePrincipal(), e.service(), e.status()), this::register);
    m.requests().increment();
    m.duration().record(e.duration().toNanos() / 1e6);
    m.requestBytes().record(e.requestBytes());
    m.responseBytes().record(e.responseBytes());
    log.accept(e);
  }

  private Meters register(Labels l) {
    String[] dst = l.service().split("/", 2);
    Tags tags = Tags.of("reporter", "waypoint", "source_principal", l.sourcePrincipal(),
        "destination_service_namespace", dst[0], "destination_service_name", dst.length > 1 ? dst[1] : "",
        "response_code", String.valueOf(l.code()), "request_protocol", "http");
    return new Meters(
        Counter.builder("istio_requests_total").description("HTTP requests through the waypoint").tags(tags).register(registry),
        // a summary in milliseconds, not a Timer: Prometheus then reads istio_request_duration_milliseconds_bucket
        // with Istio's bounds, as Istio's dashboards expect (a Timer would add _seconds and bounds in seconds)
        DistributionSummary.builder("istio_request_duration").baseUnit("milliseconds").description("HTTP request duration at the waypoint")
            .tags(tags).serviceLevelObjectives(ISTIO_BUCKETS).register(registry),
        DistributionSummary.builder("istio_request_bytes").baseUnit("bytes").tags(tags).register(registry),
        DistributionSummary.builder("istio_response_bytes").baseUnit("bytes").tags(tags).register(registry));
  }

  private static void logJson(Entry e) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    ObjectNode n = JSON.createObjectNode();
    n.put("start", e.start().toString());
    n.put("duration_ms", e.duration().toNanos() / 1e6);
    n.put("source", e.source());
    n.put("source_principal", e.sourcePrincipal());
    n.put("method", e.method());
    n.put("authority", e.authority());
    n.put("path", e.path());
    n.put("status", e.status());
    n.put("service", e.service());
    n.put("route", e.route());
    n.put("backend", e.backend());
    n.put("endpoint", e.endpoint());
    n.put("request_bytes", e.requestBytes());
    n.put("response_bytes", e.responseBytes());
    n.put("trace_id", e.traceId());
    if (!e.flag().isEmpty()) {
      n.put("flag", e.flag());
    }
    ACCESS.info(n.toString());
  }
}

package dev.capstan.nodeagent.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The agent's metrics. TCP accounting uses Istio's names and labels ({@code
 * istio_tcp_connections_opened_total}, {@code istio_tcp_sent_bytes_total}, ...) so existing
 * dashboards adapt; Capstan's own are {@code capstan_*}. Cardinality is bounded by the workloads of
 * one node and a fixed set of reasons.
 */
public final class ProxyMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  public void connectionOpened(ConnectionLabels labels) {
    registry.counter("istio_tcp_connections_opened", labels.tags()).increment();
  }

  /** A proxied connection ended: bytes each way and its duration. */
  public void connectionClosed(ConnectionLabels labels, long sentBytes, long receivedBytes, Duration duration) {
    Tags tags = labels.tags();
    registry.counter("istio_tcp_connections_closed", tags).increment();
    registry.counter("istio_tcp_sent_bytes", tags).increment(sentBytes);
    registry.counter("istio_tcp_received_bytes", tags).increment(receivedBytes);
    Timer.builder("capstan_tcp_connection_duration")
        .tags(Tags.of("reporter", labels.reporter(),
            "source_workload_namespace", labels.sourceNamespace(),
            "destination_workload_namespace", labels.destinationNamespace()))
        .register(registry)
        .record(duration);
  }

  /** A connection that could not be proxied; {@code reason} is a fixed label. */
  public void connectionFailed(String reporter, String reason) {
    registry.counter("capstan_tcp_connections_failed", "reporter", reporter, "reason", reason).increment();
  }

  /** A refusal by the HBONE server before any policy: bad request, handshake failure. */
  public void hboneRefused(String reason) {
    registry.counter("capstan_hbone_refused", "reason", reason).increment();
  }

  /** An HBONE client connection was opened to a peer agent. */
  public void hboneConnectionOpened() {
    registry.counter("capstan_hbone_connections_opened").increment();
  }

  /** A configuration or certificate reload that was rejected. */
  public Counter reloadErrors(String source) {
    return registry.counter("capstan_config_reload_errors", "source", source);
  }

  /** Registers a gauge read at scrape time. */
  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }
}

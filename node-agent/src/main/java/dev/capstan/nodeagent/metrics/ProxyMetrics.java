package dev.capstan.nodeagent.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The agent's metrics. TCP accounting uses Istio's names and labels ({@code
 * istio_tcp_connections_opened_total}, {@code istio_tcp_sent_bytes_total}, ...) so existing
 * dashboards adapt; Capstan's own are {@code capstan_*}. Cardinality is bounded by the workloads of
 * one node and a fixed set of reasons.
 */
public final class ProxyMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  /** Meters per label set, looked up once per connection instead of rebuilt from tags. */
  private final Map<ConnectionLabels, Meters> meters = new ConcurrentHashMap<>();

  private record Meters(Counter opened, Counter closed, Counter sent, Counter received, Timer duration) {}

  private Meters meters(ConnectionLabels labels) {
    Meters m = meters.get(labels);
    if (m != null) {
      return m;
    }
    Tags tags = labels.tags();
    return meters.computeIfAbsent(labels, l -> new Meters(
        registry.counter("istio_tcp_connections_opened", tags),
        registry.counter("istio_tcp_connections_closed", tags),
        registry.counter("istio_tcp_sent_bytes", tags),
        registry.counter("istio_tcp_received_bytes", tags),
        Timer.builder("capstan_tcp_connection_duration")
            .tags(Tags.of("reporter", l.reporter(),
                "source_workload_namespace", l.sourceNamespace(),
                "destination_workload_namespace", l.destinationNamespace()))
            .register(registry)));
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  public void connectionOpened(ConnectionLabels labels) {
    meters(labels).opened().increment();
  }

  /** A proxied connection ended: bytes each way and its duration. */
  public void connectionClosed(ConnectionLabels labels, long sentBytes, long receivedBytes, Duration duration) {
    Meters m = meters(labels);
    m.closed().increment();
    m.sent().increment(sentBytes);
    m.received().increment(receivedBytes);
    m.duration().record(duration);
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
  /** A new connection of {@code tenant} refused by its connection caps. */
  public void tenantRefused(String tenant, String reason) {
    registry.counter("capstan_tenant_connections_refused", "tenant", tenant, "reason", reason).increment();
  }

  /** A gauge of one tenant (label {@code tenant}). */
  public void tenantGauge(String name, String description, String tenant, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).tag("tenant", tenant).register(registry);
  }

  /**
   * A monotonic counter of one tenant read from {@code state} (label {@code tenant}). Micrometer
   * keeps only a weak reference to {@code state}: pass an object that lives as long as the tenant.
   */
  public <T> void tenantCounter(String name, String description, String tenant, T state,
      java.util.function.ToDoubleFunction<T> value) {
    io.micrometer.core.instrument.FunctionCounter.builder(name, state, value)
        .description(description).tag("tenant", tenant).register(registry);
  }

  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }
}

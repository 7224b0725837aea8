package dev.capstan.nodeagent.proxy;

import dev.capstan.nodeagent.metrics.ProxyMetrics;
import dev.capstan.nodeagent.quota.TenantLimits;
import io.netty.channel.Channel;
import java.util.Optional;

/**
 * A tenant's connection caps at the door of each path (outbound, inbound HBONE, inbound
 * plaintext): admits a connection and releases its permit when the connection closes, or counts
 * the refusal and says why, for the path to refuse in its own way (reset, 503, close).
 */
final class TenantGate {
  private final TenantLimits limits;
  private final ProxyMetrics metrics;

  TenantGate(TenantLimits limits, ProxyMetrics metrics) {
    this.limits = limits;
    this.metrics = metrics;
  }

  /**
   * Admits one connection of {@code tenant}, held until {@code connection} closes; empty when
   * admitted, else the refusal (already counted in {@code capstan_tenant_connections_refused_total}).
   *
   * @param peer who is refused, for the log line
   */
  Optional<ProxyError.TenantLimited> admit(String tenant, Channel connection, String peer) {
    TenantLimits.Admission admission = limits.admit(tenant);
    if (admission.refusal().isPresent()) {
      metrics.tenantRefused(tenant, admission.refusal().get().label());
      return Optional.of(new ProxyError.TenantLimited(tenant, admission.refusal().get(), peer));
    }
    connection.closeFuture().addListener(f -> admission.permit().orElseThrow().release());
    return Optional.empty();
  }
}

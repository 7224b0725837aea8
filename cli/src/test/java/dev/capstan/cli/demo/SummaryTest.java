package dev.capstan.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.cli.remote.Prometheus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's summary, from the components' metrics. */
class SummaryTest {

  @Test
  void bytes_per_tenant_add_up_over_the_agents() {
    List<Prometheus.Sample> a = Prometheus.parse("capstan_tenant_read_bytes_total{tenant=\"shop\"} 100.0\n");
    List<Prometheus.Sample> b = Prometheus.parse("""
        capstan_tenant_read_bytes_total{tenant="shop"} 20.0
        capstan_tenant_read_bytes_total{tenant="reviews"} 7.0
        """);
    assertThat(Summary.bytesPerTenant(List.of(a, b))).containsExactly(Map.entry("reviews", 7L), Map.entry("shop", 120L));
  }
}

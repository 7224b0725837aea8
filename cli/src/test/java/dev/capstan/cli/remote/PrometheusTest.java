package dev.capstan.cli.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTest {

  @Test
  void samples_are_read_with_their_labels_and_comments_and_garbage_are_skipped() {
    List<Prometheus.Sample> samples = Prometheus.parse("""
        # HELP istio_tcp_connections_opened_total Connections
        # TYPE istio_tcp_connections_opened_total counter
        istio_tcp_connections_opened_total{reporter="destination",source_principal="spiffe://cluster.local/ns/a/sa/b",note="a \\"quoted\\" value"} 3.0
        capstan_overloaded 0.0
        not a sample
        """);
    assertThat(samples).containsExactly(
        new Prometheus.Sample("istio_tcp_connections_opened_total",
            Map.of("reporter", "destination", "source_principal", "spiffe://cluster.local/ns/a/sa/b", "note", "a \"quoted\" value"), 3.0),
        new Prometheus.Sample("capstan_overloaded", Map.of(), 0.0));
  }
}

package dev.capstan.cli.stat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.capstan.cli.remote.Prometheus;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Rates from two scrapes written by hand, ten seconds apart. */
class StatsTest {

  private static final String V1 = "destination_workload=\"reviews-v1\",destination_workload_namespace=\"reviews\","
      + "source_workload=\"frontend\",source_workload_namespace=\"shop\"";
  private static final String V2 = "destination_workload=\"reviews-v2\",destination_workload_namespace=\"reviews\","
      + "source_workload=\"frontend\",source_workload_namespace=\"shop\"";

  private static Stats.Scrape scrape(String target, String text) {
    return new Stats.Scrape(target, Prometheus.parse(text));
  }

  private static String tcp(String reporter, String labels, double opened, double closed, double sent, double received) {
    String l = "{reporter=\"" + reporter + "\"," + labels + "}";
    return "istio_tcp_connections_opened_total" + l + " " + opened + "\n"
        + "istio_tcp_connections_closed_total" + l + " " + closed + "\n"
        + "istio_tcp_sent_bytes_total" + l + " " + sent + "\n"
        + "istio_tcp_received_bytes_total" + l + " " + received + "\n";
  }

  @Test
  void workload_rows_are_counter_increases_per_second_on_the_destination_side() {
    List<Stats.Scrape> before = List.of(scrape("b", tcp("destination", V1, 10, 8, 1000, 5000)));
    List<Stats.Scrape> after = List.of(scrape("b", tcp("destination", V1, 30, 27, 3000, 25000)
        + tcp("destination", V2, 5, 5, 100, 400)));

    List<Row> rows = Stats.rows(before, after, 10, Stats.Reporter.DESTINATION, Optional.empty());

    assertThat(rows).containsExactly(
        // 20 opened in 10 s; 30 - 27 open; sent (source → destination) is into the workload
        new Row("reviews", "reviews-v1", "workload", null, null, null, null, 2.0, 3L, 200.0, 2000.0),
        // a series new since the first scrape counts whole
        new Row("reviews", "reviews-v2", "workload", null, null, null, null, 0.5, 0L, 10.0, 40.0));
  }

  @Test
  void the_source_side_gives_rows_per_source_workload_with_the_directions_swapped() {
    List<Stats.Scrape> before = List.of(scrape("a", tcp("source", V1, 0, 0, 0, 0)));
    List<Stats.Scrape> after = List.of(scrape("a", tcp("source", V1, 4, 4, 800, 1600) + tcp("destination", V2, 9, 9, 9, 9)));

    List<Row> rows = Stats.rows(before, after, 2, Stats.Reporter.SOURCE, Optional.empty());

    assertThat(rows).containsExactly(new Row("shop", "frontend", "workload", null, null, null, null, 2.0, 0L, 800.0, 400.0));
  }

  @Test
  void a_counter_that_went_down_was_reset_and_counts_whole() {
    List<Stats.Scrape> before = List.of(scrape("b", tcp("destination", V1, 1000, 1000, 1e6, 1e6)));
    List<Stats.Scrape> after = List.of(scrape("b", tcp("destination", V1, 10, 10, 500, 700)));

    Row row = Stats.rows(before, after, 10, Stats.Reporter.DESTINATION, Optional.empty()).get(0);

    assertThat(row.connectionsPerSecond()).isEqualTo(1.0);
    assertThat(row.bytesInPerSecond()).isEqualTo(50.0);
  }

  @Test
  void the_same_series_on_two_targets_is_two_series_summed_into_one_row() {
    List<Stats.Scrape> before = List.of(scrape("a", tcp("destination", V1, 0, 0, 0, 0)), scrape("b", tcp("destination", V1, 0, 0, 0, 0)));
    List<Stats.Scrape> after = List.of(scrape("a", tcp("destination", V1, 3, 3, 0, 0)), scrape("b", tcp("destination", V1, 7, 6, 0, 0)));

    Row row = Stats.rows(before, after, 1, Stats.Reporter.DESTINATION, Optional.empty()).get(0);

    assertThat(row.connectionsPerSecond()).isEqualTo(10.0);
    assertThat(row.openConnections()).isEqualTo(1L);
  }

  private static String http(String code, double requests, double[] cumulativeSeconds, double requestBytes, double responseBytes) {
    String l = "destination_service_name=\"reviews\",destination_service_namespace=\"reviews\",reporter=\"waypoint\","
        + "response_code=\"" + code + "\"";
    double[] le = {0.005, 0.01, 0.025};
    StringBuilder b = new StringBuilder();
    b.append("istio_requests_total{").append(l).append("} ").append(requests).append('\n');
    for (int i = 0; i < le.length; i++) {
      b.append("istio_request_duration_milliseconds_seconds_bucket{").append(l).append(",le=\"").append(le[i]).append("\"} ")
          .append(cumulativeSeconds[i]).append('\n');
    }
    b.append("istio_request_duration_milliseconds_seconds_bucket{").append(l).append(",le=\"+Inf\"} ").append(requests).append('\n');
    b.append("istio_request_bytes_sum{").append(l).append("} ").append(requestBytes).append('\n');
    b.append("istio_response_bytes_sum{").append(l).append("} ").append(responseBytes).append('\n');
    return b.toString();
  }

  @Test
  void service_rows_have_the_request_rate_the_share_not_5xx_and_latency_quantiles_in_milliseconds() {
    List<Stats.Scrape> before = List.of(scrape("w", http("200", 0, new double[] {0, 0, 0}, 0, 0)));
    // 90 ok and 10 failed requests in 10 s: 20 within 5 ms, 80 within 10 ms, all within 25 ms.
    List<Stats.Scrape> after = List.of(scrape("w", http("200", 90, new double[] {20, 72, 90}, 900, 9000)
        + http("503", 10, new double[] {0, 8, 10}, 100, 0)));

    Row row = Stats.rows(before, after, 10, Stats.Reporter.DESTINATION, Optional.empty()).get(0);

    assertThat(row.kind()).isEqualTo("service");
    assertThat(row.requestsPerSecond()).isEqualTo(10.0);
    assertThat(row.successPercent()).isEqualTo(90.0);
    assertThat(row.p50Millis()).isCloseTo(7.5, within(1e-9));
    assertThat(row.p99Millis()).isCloseTo(24.25, within(1e-9));
    assertThat(row.bytesInPerSecond()).isEqualTo(100.0);
    assertThat(row.bytesOutPerSecond()).isEqualTo(900.0);
    assertThat(row.connectionsPerSecond()).isNull();
  }

  @Test
  void a_namespace_keeps_only_its_rows() {
    List<Stats.Scrape> after = List.of(scrape("a", tcp("source", V1, 1, 1, 1, 1) + tcp("destination", V1, 1, 1, 1, 1)));

    assertThat(Stats.rows(List.of(), after, 1, Stats.Reporter.DESTINATION, Optional.of("shop"))).isEmpty();
    assertThat(Stats.rows(List.of(), after, 1, Stats.Reporter.DESTINATION, Optional.of("reviews"))).hasSize(1);
  }
}

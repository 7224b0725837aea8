package dev.capstan.cli.stat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Worked examples of PromQL's histogram_quantile. */
class HistogramsTest {

  private static TreeMap<Double, Double> buckets(double... boundAndCount) {
    TreeMap<Double, Double> b = new TreeMap<>();
    for (int i = 0; i < boundAndCount.length; i += 2) {
      b.put(boundAndCount[i], boundAndCount[i + 1]);
    }
    return b;
  }

  @Test
  void the_quantile_is_interpolated_inside_the_bucket_its_rank_falls_in() {
    // 100 observations: 20 ≤ 5 ms, 80 ≤ 10 ms, 100 ≤ 25 ms.
    TreeMap<Double, Double> b = buckets(5, 20, 10, 80, 25, 100, Double.POSITIVE_INFINITY, 100);
    // rank 50 lies 30 of 60 into (5, 10]: 7.5 ms
    assertThat(Histograms.quantile(0.5, b)).isCloseTo(7.5, within(1e-9));
    // rank 99 lies 19 of 20 into (10, 25]: 24.25 ms
    assertThat(Histograms.quantile(0.99, b)).isCloseTo(24.25, within(1e-9));
    // rank 10 lies in the first bucket, from 0
    assertThat(Histograms.quantile(0.1, b)).isCloseTo(2.5, within(1e-9));
  }

  @Test
  void a_rank_in_the_infinite_bucket_gives_the_highest_finite_bound() {
    assertThat(Histograms.quantile(0.99, buckets(5, 10, 10, 50, Double.POSITIVE_INFINITY, 100))).isEqualTo(10.0);
  }

  @Test
  void an_empty_histogram_has_no_quantile() {
    assertThat(Histograms.quantile(0.5, buckets(5, 0, Double.POSITIVE_INFINITY, 0))).isNull();
    assertThat(Histograms.quantile(0.5, new TreeMap<>())).isNull();
  }
}

package dev.capstan.cli.stat;

import java.util.Map;
import java.util.NavigableMap;

/** Quantiles of a Prometheus histogram, estimated the way PromQL's {@code histogram_quantile} does. */
final class Histograms {

  private Histograms() {}

  /**
   * The {@code q}-quantile of cumulative bucket counts, interpolated linearly inside the bucket the
   * rank falls in; a rank in the {@code +Inf} bucket gives the highest finite bound.
   *
   * @param buckets upper bound ({@code le}, {@link Double#POSITIVE_INFINITY} for {@code +Inf}) → cumulative count
   * @return null when the histogram holds no observations
   */
  static Double quantile(double q, NavigableMap<Double, Double> buckets) {
    if (buckets.isEmpty()) {
      return null;
    }
    double total = buckets.lastEntry().getValue();
    if (total <= 0) {
      return null;
    }
    double rank = q * total;
    double lowerBound = 0;
    double countBelow = 0;
    Double highestFinite = null;
    for (Map.Entry<Double, Double> b : buckets.entrySet()) {
      double le = b.getKey();
      double cumulative = b.getValue();
      if (cumulative >= rank) {
        if (Double.isInfinite(le)) {
          return highestFinite == null ? null : highestFinite;
        }
        double inBucket = cumulative - countBelow;
        return inBucket <= 0 ? le : lowerBound + (le - lowerBound) * (rank - countBelow) / inBucket;
      }
      if (!Double.isInfinite(le)) {
        highestFinite = le;
      }
      lowerBound = le;
      countBelow = cumulative;
    }
    return highestFinite;
  }
}

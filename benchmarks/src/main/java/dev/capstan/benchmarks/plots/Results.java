package dev.capstan.benchmarks.plots;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link ResultsParser} reads from RESULTS.md: one {@link Section} per benchmark run that the
 * file records, each with the figures of its summary table. Nothing here is computed: every number
 * is one the file states.
 *
 * @param sections the sections, in file order
 * @param notes what was left out before any section (each a log line)
 */
public record Results(List<Section> sections, List<String> notes) {

  public Results {
    sections = List.copyOf(sections);
    notes = List.copyOf(notes);
  }

  /**
   * One benchmark run's part of the file.
   *
   * @param title its heading
   * @param slug the file name of its plot, without {@code .svg}
   * @param metadata its header bullets, keys lower-case ({@code date}, {@code jdk}, {@code machine}, {@code reproduce}, …)
   * @param figures the rows of its summary table, in order
   * @param notes what was left out or looked wrong (each a log line), never replaced by a guess
   */
  public record Section(String title, String slug, Map<String, String> metadata, List<Figure> figures, List<String> notes) {

    public Section {
      metadata = Map.copyOf(metadata);
      figures = List.copyOf(figures);
      notes = List.copyOf(notes);
    }

    public Optional<String> date() {
      return Optional.ofNullable(metadata.get("date"));
    }

    public Optional<String> machine() {
      return Optional.ofNullable(metadata.get("machine"));
    }

    public Optional<String> jdk() {
      return Optional.ofNullable(metadata.get("jdk"));
    }

    /** The command that reproduces the section: the first {@code `…`} of its {@code reproduce} bullet. */
    public Optional<String> command() {
      String reproduce = metadata.get("reproduce");
      if (reproduce == null) {
        return Optional.empty();
      }
      int start = reproduce.indexOf('`');
      int end = start < 0 ? -1 : reproduce.indexOf('`', start + 1);
      return Optional.of(end < 0 ? reproduce : reproduce.substring(start + 1, end));
    }

    public int valueCount() {
      return figures.stream().mapToInt(f -> f.values().size()).sum();
    }

    public int ratioCount() {
      return figures.stream().mapToInt(f -> f.ratios().size()).sum();
    }
  }

  /**
   * One measured figure and the values it compares: Capstan's and its peers' (or a target), or one
   * value per scenario.
   *
   * @param name the figure as the table names it
   * @param values one bar each
   * @param ratios the ratios the table states between two of {@code values}
   */
  public record Figure(String name, List<Value> values, List<Ratio> ratios) {

    public Figure {
      values = List.copyOf(values);
      ratios = List.copyOf(ratios);
    }

    public Optional<Value> value(String label) {
      return values.stream().filter(v -> v.label().equals(label)).findFirst();
    }
  }

  /**
   * One bar.
   *
   * @param label what was measured: {@code Capstan}, a peer, a reference, or a scenario
   * @param median the figure (the median across rounds or runs)
   * @param spread min–max across rounds, when the table gives it
   * @param subject true for Capstan's own value (drawn in colour), false for peers and baselines
   */
  public record Value(String label, Decimal median, Optional<Spread> spread, boolean subject) {}

  /** Min–max across rounds. */
  public record Spread(Decimal min, Decimal max) {}

  /**
   * A ratio the table states: {@code numerator / denominator}, as rounded in the file.
   *
   * @param numerator label of the value on top
   * @param denominator label of the value it is compared with
   * @param reported the ratio as written (without its {@code x})
   */
  public record Ratio(String numerator, String denominator, Decimal reported) {

    /**
     * Whether the stated ratio is what its two values give, allowing for the rounding of all three
     * numbers as written. False when either value is missing or the denominator may be zero.
     */
    public boolean consistentWith(Figure figure) {
      Optional<Value> top = figure.value(numerator);
      Optional<Value> bottom = figure.value(denominator);
      if (top.isEmpty() || bottom.isEmpty() || bottom.get().median().low() <= 0) {
        return false;
      }
      Decimal n = top.get().median();
      Decimal d = bottom.get().median();
      double lowest = Math.max(0, n.low()) / d.high();
      double highest = n.high() / d.low();
      return reported.high() >= lowest && reported.low() <= highest;
    }
  }
}

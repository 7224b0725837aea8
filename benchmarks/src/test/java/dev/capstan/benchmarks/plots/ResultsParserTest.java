package dev.capstan.benchmarks.plots;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.capstan.benchmarks.plots.Results.Figure;
import dev.capstan.benchmarks.plots.Results.Ratio;
import dev.capstan.benchmarks.plots.Results.Section;
import dev.capstan.benchmarks.plots.Results.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ResultsParserTest {

  /** The module's own RESULTS.md (surefire runs in the module directory): rewritten by every benchmark run. */
  static final Path RESULTS = Path.of("RESULTS.md");

  /**
   * A copy of RESULTS.md as it was on 2026-11-22 (every section, each table shape): the figures
   * below are pinned to it, so a new benchmark run does not change what these tests expect.
   */
  static final Path PINNED = Path.of("src/test/resources/RESULTS-2026-11-22.md");

  private static Results real;

  @BeforeAll
  static void parseTheRealFile() throws IOException {
    real = ResultsParser.parse(Files.readString(PINNED, StandardCharsets.UTF_8));
  }

  @Test
  void theLiveFileParsesAndEveryRatioItStatesMatchesItsNumbers() throws IOException {
    Results live = ResultsParser.parse(Files.readString(RESULTS, StandardCharsets.UTF_8));
    assertThat(live.sections()).isNotEmpty().allSatisfy(s -> assertThat(s.figures()).as(s.title()).isNotEmpty());
    for (Section s : live.sections()) {
      for (Figure f : s.figures()) {
        assertThat(f.ratios()).as(s.title() + ": " + f.name()).allSatisfy(r -> assertThat(r.consistentWith(f)).isTrue());
      }
    }
    assertThat(live.notes()).as("nothing skipped").isEmpty();
  }

  private static Section section(String title) {
    return real.sections().stream().filter(s -> s.title().equals(title)).findFirst().orElseThrow();
  }

  private static Figure figure(Section section, String name) {
    return section.figures().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
  }

  private static double median(Figure figure, String label) {
    return figure.value(label).orElseThrow().median().value();
  }

  @Test
  void theRealFileYieldsEverySectionItRecords() {
    assertThat(real.sections()).extracting(Section::title).containsExactly(
        "Data path on loopback", "Control plane (issue 3)", "Agent restart under load (issue 4)",
        "Capture mode (issue 4)", "Noisy neighbour (issue 5)", "Waypoint (issue 6)");
    assertThat(real.sections()).extracting(Section::slug).containsExactly(
        "data-path-on-loopback", "control-plane", "agent-restart-under-load", "capture-mode", "noisy-neighbour", "waypoint");
    assertThat(real.notes()).isEmpty();
  }

  @Test
  void everySectionYieldsFiguresWithItsDateMachineAndCommand() {
    for (Section s : real.sections()) {
      assertThat(s.figures()).as(s.title()).isNotEmpty();
      assertThat(s.figures()).as(s.title()).allSatisfy(f -> assertThat(f.values()).isNotEmpty());
      assertThat(s.date()).as(s.title()).isPresent();
      assertThat(s.machine()).as(s.title()).isPresent();
      assertThat(s.jdk()).as(s.title()).isPresent();
      assertThat(s.command()).as(s.title()).isPresent();
    }
    // Summary tables row by row: every row of each is a figure (the noisy neighbour's grouped by measure).
    assertThat(section("Data path on loopback").figures()).hasSize(15);
    assertThat(section("Capture mode (issue 4)").figures()).hasSize(12);
    assertThat(section("Waypoint (issue 6)").figures()).hasSize(14);
    assertThat(section("Agent restart under load (issue 4)").figures()).hasSize(1);
  }

  @Test
  void everyStatedRatioMatchesTheNumbersItCompares() {
    int ratios = 0;
    for (Section s : real.sections()) {
      for (Figure f : s.figures()) {
        for (Ratio r : f.ratios()) {
          assertThat(r.consistentWith(f)).as(s.title() + ": " + f.name() + " " + r).isTrue();
          ratios++;
        }
      }
      assertThat(s.notes()).as(s.title()).noneMatch(n -> n.contains("does not match"));
    }
    assertThat(ratios).isEqualTo(15 + 12 + 0 + 12 + 25 + 20);
  }

  @Test
  void metadataKeepsTheRunsHeader() {
    Section dataPath = section("Data path on loopback");
    assertThat(dataPath.date()).hasValue("Sun Nov 22 05:20:17 UTC 2026");
    assertThat(dataPath.command()).hasValue("cd /work/main && ROUNDS=3 WARMUP=30 benchmarks/run.sh");
    assertThat(dataPath.jdk().orElseThrow()).startsWith("openjdk version \"17.0.15\" 2025-04-15; OpenJDK Runtime Environment");
    // "JDK: …; machine: …" on one bullet: the machine is its own key.
    Section restart = section("Agent restart under load (issue 4)");
    assertThat(restart.machine()).hasValue("2 CPUs, Intel Xeon, kernel 6.18.44, shared");
    assertThat(restart.jdk()).hasValue("openjdk 17.0.15 (Debian)");
    // "runs: …; reproduce: `…`"
    assertThat(section("Control plane (issue 3)").command()).hasValue("cd /work/main && RUNS=3 MEMBERS=1 benchmarks/control-plane.sh");
    assertThat(section("Waypoint (issue 6)").metadata()).containsEntry("repository revision", "8478892");
  }

  @Test
  void topologyColumnsGiveOneValuePerTopologyWithItsSpread() {
    Figure f = figure(section("Data path on loopback"), "keep-alive req/s, 64 connections");
    assertThat(f.values()).extracting(Value::label).containsExactly("direct", "HAProxy", "Capstan");
    assertThat(median(f, "direct")).isEqualTo(80412);
    assertThat(median(f, "HAProxy")).isEqualTo(21147);
    assertThat(median(f, "Capstan")).isEqualTo(32648);
    assertThat(f.value("Capstan").orElseThrow().subject()).isTrue();
    assertThat(f.value("HAProxy").orElseThrow().subject()).isFalse();
    assertThat(f.value("HAProxy").orElseThrow().spread().orElseThrow().max().value()).isEqualTo(21749);
    assertThat(f.value("direct").orElseThrow().spread()).isEmpty();
    assertThat(f.ratios()).singleElement().satisfies(r -> {
      assertThat(r.numerator()).isEqualTo("Capstan");
      assertThat(r.denominator()).isEqualTo("HAProxy");
      assertThat(r.reported().value()).isEqualTo(1.54);
    });
    // A dash is "not measured": no value, and no note.
    Figure cpu = figure(section("Data path on loopback"), "proxy CPU µs per request (64-connection keep-alive, both hops)");
    assertThat(cpu.values()).extracting(Value::label).containsExactly("HAProxy", "Capstan");
    assertThat(section("Data path on loopback").notes()).isEmpty();
  }

  @Test
  void spreadsInOneCellAreMatchedToTopologiesByInitial() {
    Figure f = figure(section("Waypoint (issue 6)"), "keep-alive req/s, 64 connections, HTTP/1.1 (wrk)");
    assertThat(f.values()).extracting(Value::label).containsExactly("direct", "HAProxy", "nginx", "Capstan");
    assertThat(f.value("nginx").orElseThrow().spread().orElseThrow().min().value()).isEqualTo(8092);
    assertThat(f.value("Capstan").orElseThrow().spread().orElseThrow().max().value()).isEqualTo(11772);
    assertThat(f.ratios()).extracting(Ratio::denominator).containsExactly("HAProxy", "nginx");
    assertThat(f.ratios()).extracting(r -> r.reported().value()).containsExactly(0.76, 0.64);
  }

  @Test
  void aReferenceThatStatesANumberIsABar() {
    Section cp = section("Control plane (issue 3)");
    Figure p50 = figure(cp, "propagation p50 ms (50 agents, content in the index)");
    assertThat(p50.values()).extracting(Value::label).containsExactly("Capstan", "target 1000 ms");
    assertThat(median(p50, "Capstan")).isEqualTo(280.8);
    assertThat(median(p50, "target 1000 ms")).isEqualTo(1000);
    assertThat(p50.ratios()).singleElement().extracting(r -> r.reported().value()).isEqualTo(0.28);
    Figure bytes = figure(cp, "bytes per workload (one agent's view, heap used after GC)");
    assertThat(median(bytes, "ztunnel 528 B")).isEqualTo(528);
    // Thousands separators.
    assertThat(median(figure(cp, "propagation p99 ms"), "Capstan")).isEqualTo(1281.0);
  }

  @Test
  void aReferenceThatNamesAnotherRowTakesThatRowsMedian() {
    Figure f = figure(section("Control plane (issue 3)"), "memory total, per-node model (50 clients) MiB");
    assertThat(f.values()).extracting(Value::label).containsExactly("Capstan", "per-pod model");
    assertThat(median(f, "per-pod model")).isEqualTo(33145);
    assertThat(f.ratios()).singleElement().satisfies(r -> assertThat(r.consistentWith(f)).isTrue());
    // The per-pod row is the reference itself: its 1.00x is not drawn, and the log says so.
    Figure perPod = figure(section("Control plane (issue 3)"), "memory total, per-pod model (5,000 clients, extrapolated) MiB");
    assertThat(perPod.values()).hasSize(1);
    assertThat(perPod.ratios()).isEmpty();
    assertThat(section("Control plane (issue 3)").notes()).anyMatch(n -> n.contains("per-pod model (5,000 clients")
        && n.contains("against itself"));
  }

  @Test
  void aReferenceWithoutANumberIsLeftOutWithANote() {
    Section restart = section("Agent restart under load (issue 4)");
    Figure f = restart.figures().get(0);
    assertThat(f.values()).extracting(Value::label).containsExactly("Capstan");
    assertThat(median(f, "Capstan")).isZero();
    assertThat(restart.notes()).singleElement().asString().contains("Istio's ztunnel resets its connections");
  }

  @Test
  void scenarioRowsAreGroupedByMeasureAndComparedWithTheBaselineAbove() {
    Section noisy = section("Noisy neighbour (issue 5)");
    Figure p99 = figure(noisy, "quiet p99 ms");
    assertThat(p99.values()).extracting(Value::label).containsExactly(
        "quiet alone", "noisy flooding, quotas on", "noisy flooding, quotas off",
        "no agent on the quiet path, quiet alone", "no agent on the quiet path, noisy flooding (quotas on)");
    assertThat(p99.ratios()).extracting(Ratio::numerator, Ratio::denominator).containsExactly(
        org.assertj.core.groups.Tuple.tuple("noisy flooding, quotas on", "quiet alone"),
        org.assertj.core.groups.Tuple.tuple("noisy flooding, quotas off", "quiet alone"),
        org.assertj.core.groups.Tuple.tuple("no agent on the quiet path, noisy flooding (quotas on)",
            "no agent on the quiet path, quiet alone"));
    assertThat(p99.ratios().get(0).reported().value()).isEqualTo(1.51);
    assertThat(p99.value("quiet alone").orElseThrow().subject()).isFalse();
    assertThat(p99.value("noisy flooding, quotas on").orElseThrow().subject()).isTrue();
    // A comma inside parentheses does not split the measure.
    assertThat(noisy.figures()).extracting(Figure::name)
        .contains("quiet p50 ms during the warm-up (cold agents; the flood starting, buffers filling)");
    assertThat(noisy.notes()).isEmpty();
  }

  @Test
  void irregularInputIsLeftOutWithAReasonAndNeverGuessed() {
    String md = """
        # Capstan benchmark results

        - date: today
        - reproduce: `run.sh`

        | figure | direct | HAProxy | Capstan | Capstan/HAProxy | spread HAProxy | spread Capstan |
        |---|---:|---:|---:|---:|---:|---:|
        | good | 10 | 20 | 30 | 1.50x | 18–22 | 29–31 |
        | wrong ratio | — | 10 | 10 | 2.00x | — | — |
        | no number | — | 10 | n/a | — | — | — |
        | short row | 1 | 2 |

        ## Without a table (issue 9)

        - date: tomorrow

        Nothing measured.
        """;
    Results r = ResultsParser.parse(md);
    assertThat(r.sections()).extracting(Section::title).containsExactly("Data path on loopback", "Without a table (issue 9)");
    Section first = r.sections().get(0);
    assertThat(first.figures()).extracting(Figure::name).containsExactly("good", "wrong ratio");
    assertThat(first.notes()).anySatisfy(n -> assertThat(n).contains("'wrong ratio'", "2.00x", "does not match"));
    assertThat(first.notes()).anySatisfy(n -> assertThat(n).contains("'no number'", "'n/a' is not a number"));
    assertThat(first.notes()).anySatisfy(n -> assertThat(n).contains("'short row'", "3 cells"));
    // The ratio is kept as written (the file says it), flagged by the note.
    assertThat(first.figures().get(1).ratios()).singleElement().extracting(x -> x.reported().value()).isEqualTo(2.0);
    Section second = r.sections().get(1);
    assertThat(second.figures()).isEmpty();
    assertThat(second.notes()).singleElement().asString().contains("no summary table");
  }

  @Test
  void aFileWithoutSectionsSaysSo() {
    Results r = ResultsParser.parse("# Title\n\nSome text.\n\n## Part\n\n| figure | Capstan |\n|---|---|\n| x | 1 |\n");
    assertThat(r.sections()).isEmpty();
    assertThat(r.notes()).anyMatch(n -> n.contains("'Title'")).anyMatch(n -> n.contains("no section found"));
  }

  @Test
  void numbersKeepTheirRoundingAndThousandsSeparators() {
    assertThat(Decimal.parse("1,281.0")).hasValueSatisfying(d -> {
      assertThat(d.value()).isEqualTo(1281.0);
      assertThat(d.decimals()).isEqualTo(1);
      assertThat(d.low()).isCloseTo(1280.95, within(1e-9));
    });
    assertThat(Decimal.parse("15,166")).hasValueSatisfying(d -> assertThat(d.value()).isEqualTo(15166));
    assertThat(Decimal.parse("0.696")).hasValueSatisfying(d -> assertThat(d.halfUnit()).isCloseTo(0.0005, within(1e-12)));
    assertThat(Decimal.parseRatio("0.01x")).hasValueSatisfying(d -> assertThat(d.value()).isEqualTo(0.01));
    assertThat(Decimal.parse("—")).isEmpty();
    assertThat(Decimal.parse("12,34")).isEmpty();
    assertThat(Decimal.parse("1.2.3")).isEmpty();
    assertThat(Decimal.parseRatio("1.54")).isEmpty();
  }

  @Test
  void aRatioIsCheckedWithinTheRoundingOfAllThreeNumbers() {
    // 13.89 / 1.42 = 9.78, but 1.42 may be 1.416: 9.81x as written is consistent.
    Figure f = new Figure("quiet p50 ms", List.of(
        new Value("solo", Decimal.parse("1.42").orElseThrow(), java.util.Optional.empty(), false),
        new Value("off", Decimal.parse("13.89").orElseThrow(), java.util.Optional.empty(), true)), List.of());
    assertThat(new Ratio("off", "solo", Decimal.parse("9.81").orElseThrow()).consistentWith(f)).isTrue();
    assertThat(new Ratio("off", "solo", Decimal.parse("9.90").orElseThrow()).consistentWith(f)).isFalse();
    assertThat(new Ratio("off", "missing", Decimal.parse("1.00").orElseThrow()).consistentWith(f)).isFalse();
  }
}

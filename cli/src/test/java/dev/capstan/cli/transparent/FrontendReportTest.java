package dev.capstan.cli.transparent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.cli.demo.Frontend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The frontend pod's reports cross the process boundary whole, and only complete lines are read. */
class FrontendReportTest {

  @Test
  void progress_and_result_lines_decode_to_what_was_encoded_histogram_included() {
    Frontend.Progress p = new Frontend.Progress(3, 600, 598, 2, 199, 12.5, Map.of("v1", 540L, "v2", 58L));
    Histogram latency = new Histogram(3_600_000_000L, 3);
    for (int i = 1; i <= 1000; i++) {
      latency.recordValue(i * 10L);
    }
    Frontend.Result r = new Frontend.Result(1000, 999, 1, latency, Map.of("v1", 900L, "v2", 99L),
        Map.of("connection reset", 1L), Duration.ofMillis(8012));

    Frontend.Progress progress = FrontendReport.toProgress(
        FrontendReport.parse(FrontendReport.progress(p)).orElseThrow().getJsonObject("progress"));
    Frontend.Result result = FrontendReport.toResult(
        FrontendReport.parse(FrontendReport.result(r)).orElseThrow().getJsonObject("result"));

    assertThat(progress).isEqualTo(p);
    assertThat(result.requests()).isEqualTo(1000);
    assertThat(result.ok()).isEqualTo(999);
    assertThat(result.failed()).isEqualTo(1);
    assertThat(result.versions()).isEqualTo(r.versions());
    assertThat(result.failures()).isEqualTo(r.failures());
    assertThat(result.elapsed()).isEqualTo(Duration.ofMillis(8012));
    assertThat(result.latencyMicros().getTotalCount()).isEqualTo(1000);
    assertThat(result.latencyMicros().getValueAtPercentile(50)).isEqualTo(latency.getValueAtPercentile(50));
    assertThat(result.latencyMicros().getValueAtPercentile(99)).isEqualTo(latency.getValueAtPercentile(99));
  }

  @Test
  void lines_that_are_not_reports_are_not_taken_for_one() {
    assertThat(FrontendReport.parse("waiting for commands in /tmp/x")).isEmpty();
    assertThat(FrontendReport.parse(FrontendReport.MARK + "{not json")).isEmpty();
    assertThat(FrontendReport.parse(FrontendReport.warmedUp(true)).orElseThrow().getBoolean("warmUp")).isTrue();
  }

  @Test
  void a_followed_log_yields_complete_lines_only_and_each_once(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("frontend-1.log");
    RemoteFrontend.LogLines lines = new RemoteFrontend.LogLines(log);
    assertThat(lines.next()).as("no file yet").isNull();

    Files.writeString(log, "first\nsec", StandardCharsets.UTF_8);
    assertThat(lines.next()).isEqualTo("first");
    assertThat(lines.next()).as("a partial line waits for its end").isNull();

    Files.writeString(log, "ond ✓\nthird\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertThat(lines.next()).isEqualTo("second ✓");
    assertThat(lines.next()).isEqualTo("third");
    assertThat(lines.next()).isNull();
  }
}

package dev.capstan.benchmarks.plots;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {

  @Test
  void writesOneSvgPerSectionOfTheRealFile(@TempDir Path out) throws Exception {
    List<Path> written = Plots.write(Files.readString(ResultsParserTest.RESULTS, StandardCharsets.UTF_8), out.resolve("plots"));
    assertThat(written).extracting(p -> p.getFileName().toString()).containsExactly(
        "data-path-on-loopback.svg", "control-plane.svg", "agent-restart-under-load.svg", "capture-mode.svg",
        "noisy-neighbour.svg", "waypoint.svg");
    for (Path p : written) {
      assertThat(BarChartTest.xml(Files.readString(p, StandardCharsets.UTF_8)).getDocumentElement().getLocalName())
          .isEqualTo("svg");
    }
  }

  @Test
  void aSectionWithoutFiguresGetsNoFile(@TempDir Path out) throws Exception {
    List<Path> written = Plots.write("# Results\n\n- date: today\n\nNo table.\n", out);
    assertThat(written).isEmpty();
    try (var files = Files.list(out)) {
      assertThat(files).isEmpty();
    }
  }
}

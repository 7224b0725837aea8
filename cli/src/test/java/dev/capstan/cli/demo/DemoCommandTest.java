package dev.capstan.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.cli.CapstanMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad options are refused with the option and the reason named, before anything starts. */
class DemoCommandTest {

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "--duration, 5x, '5x' is not a duration",
      "--duration, 0s, --duration must be more than 0",
      "--duration, 25h, at most 24h",
      "--connections, 0, --connections must be 1 to 64",
      "--rate, 0, --rate must be 1 to 5000",
      "--rate, 2, --rate (2) must be at least --connections (4)",
      "--manifests, /nonexistent/capstan-demo, mesh.yaml is missing",
  })
  void bad_options_are_refused_with_the_reason(String option, String value, String reason) {
    StringWriter err = new StringWriter();
    picocli.CommandLine cli = CapstanMain.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));

    assertThat(cli.execute("demo", option, value)).isEqualTo(2);
    assertThat(err.toString()).contains(reason);
  }

  @Test
  void transparent_without_root_exits_1_with_one_line_saying_why_and_builds_nothing() {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    picocli.CommandLine cli = CapstanMain.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    ((DemoCommand) cli.getSubcommands().get("demo").getCommand()).root = () -> false;

    assertThat(cli.execute("demo", "--transparent", "--duration", "1s")).isEqualTo(1);
    assertThat(err.toString()).isEqualTo("capstan demo: --transparent needs root (network namespaces, nftables): "
        + "run with sudo, or drop --transparent" + System.lineSeparator());
    assertThat(out.toString()).as("nothing started").isEmpty();
  }

  @Test
  void transparent_reads_only_routes_yaml_from_manifests_and_names_it_when_missing(@TempDir Path dir) {
    StringWriter err = new StringWriter();
    picocli.CommandLine cli = CapstanMain.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));

    assertThat(cli.execute("demo", "--transparent", "--manifests", dir.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("routes.yaml is missing (the demo reads routes.yaml)");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"500ms, PT0.5S", "30s, PT30S", "2m, PT2M", "1h, PT1H"})
  void durations_take_a_number_and_a_unit(String text, String expected) {
    assertThat(new DemoCommand.DurationConverter().convert(text)).isEqualTo(Duration.parse(expected));
  }
}

package dev.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class CapstanMainTest {

  @Test
  void help_lists_every_command() {
    StringWriter out = new StringWriter();
    CommandLine cli = CapstanMain.commandLine();
    cli.setOut(new PrintWriter(out, true));

    assertThat(cli.execute("--help")).isZero();
    assertThat(out.toString()).contains("demo", "check", "status", "stat", "config-dump");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"check", "status", "stat", "config-dump"})
  void every_command_has_help_and_the_output_option(String command) {
    StringWriter out = new StringWriter();
    CommandLine cli = CapstanMain.commandLine();
    cli.setOut(new PrintWriter(out, true));

    assertThat(cli.execute(command, "--help")).isZero();
    assertThat(out.toString()).contains("Usage: capstan " + command, "-o, --output=<format>", "table (default), json or yaml");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"check", "status", "stat", "config-dump"})
  void a_bad_output_format_is_a_usage_error_naming_the_choices(String command) {
    StringWriter err = new StringWriter();
    CommandLine cli = CapstanMain.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));

    assertThat(cli.execute(command, "-o", "xml")).isEqualTo(2);
    assertThat(err.toString()).contains("'xml' is not an output format: use table, json or yaml");
  }
}

package dev.capstan.cli.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TableTest {

  @Test
  void columns_are_aligned_two_spaces_apart_and_missing_cells_print_as_a_dash() {
    String text = new Table("NAME", "KIND", "VERSION")
        .row("node-a", "agent", "1-abc")
        .row("reviews", "waypoint", null)
        .row("x")
        .render();

    assertThat(text).isEqualTo("""
        NAME     KIND      VERSION
        node-a   agent     1-abc
        reviews  waypoint  -
        x        -         -
        """);
  }

  @Test
  void a_row_wider_than_the_header_is_refused() {
    assertThatThrownBy(() -> new Table("A").row("1", "2")).hasMessageContaining("2 cells in a table of 1 columns");
  }

  @Test
  void output_formats_are_read_in_any_case_and_others_are_refused_with_the_choices() {
    OutputFormat.Converter c = new OutputFormat.Converter();
    assertThat(c.convert("JSON")).isEqualTo(OutputFormat.JSON);
    assertThat(c.convert("yaml")).isEqualTo(OutputFormat.YAML);
    assertThatThrownBy(() -> c.convert("xml"))
        .isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessage("'xml' is not an output format: use table, json or yaml");
  }

  @Test
  void records_print_as_json_and_yaml_with_their_component_names() {
    record Row(String name, Double p99, long conns) {}
    assertThat(Printer.json(new Row("a", null, 3))).isEqualTo("""
        {
          "name" : "a",
          "p99" : null,
          "conns" : 3
        }
        """);
    assertThat(Printer.yaml(new Row("a", 1.5, 3))).isEqualTo("""
        name: a
        p99: 1.5
        conns: 3
        """);
  }
}

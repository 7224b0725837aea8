package dev.capstan.cli.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.PrintWriter;
import java.util.function.Supplier;

/** Prints a command's result in the format the user chose: the command's table, or its model as JSON or YAML. */
public final class Printer {

  private static final ObjectMapper JSON = new ObjectMapper()
      .findAndRegisterModules()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .build())
      .findAndRegisterModules()
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private Printer() {}

  /** {@code model} as indented JSON, ending with a newline. */
  public static String json(Object model) {
    try {
      return JSON.writeValueAsString(model) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render " + model.getClass().getSimpleName() + " as JSON: " + e.getMessage(), e);
    }
  }

  /** {@code model} as YAML (no document marker), ending with a newline. */
  public static String yaml(Object model) {
    try {
      return YAML.writeValueAsString(model);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render " + model.getClass().getSimpleName() + " as YAML: " + e.getMessage(), e);
    }
  }

  /** Prints {@code model} as JSON or YAML, or the text {@code table} makes, and flushes. */
  public static void print(PrintWriter out, OutputFormat format, Object model, Supplier<String> table) {
    switch (format) {
      case JSON:
        out.print(json(model));
        break;
      case YAML:
        out.print(yaml(model));
        break;
      default:
        out.print(table.get());
        break;
    }
    out.flush();
  }
}

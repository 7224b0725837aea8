package dev.capstan.cli.output;

import java.util.Locale;
import picocli.CommandLine;

/** What {@code -o} selects: a table for people (the default), JSON or YAML for scripts. */
public enum OutputFormat {
  TABLE, JSON, YAML;

  /** {@code table}, {@code json}, {@code yaml}, in any case; anything else is refused with the choices. */
  public static final class Converter implements CommandLine.ITypeConverter<OutputFormat> {
    @Override
    public OutputFormat convert(String value) {
      try {
        return OutputFormat.valueOf(value.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not an output format: use table, json or yaml");
      }
    }
  }
}

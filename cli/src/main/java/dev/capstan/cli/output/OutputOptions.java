package dev.capstan.cli.output;

import picocli.CommandLine.Option;

/** The {@code -o table|json|yaml} option every command mixes in. */
public final class OutputOptions {

  @Option(names = {"-o", "--output"}, paramLabel = "<format>", defaultValue = "table", converter = OutputFormat.Converter.class,
      description = "output format: table (default), json or yaml")
  OutputFormat format = OutputFormat.TABLE;

  public OutputFormat format() {
    return format;
  }
}

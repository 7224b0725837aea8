package dev.capstan.cli.dump;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capstan.cli.CliException;
import dev.capstan.cli.output.OutputOptions;
import dev.capstan.cli.output.Printer;
import dev.capstan.cli.remote.Endpoint;
import dev.capstan.cli.remote.Hints;
import dev.capstan.cli.remote.Http;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code capstan config-dump}: GETs a component's {@code /config_dump} (node agent, waypoint or
 * controller: they share the admin server) and prints it, whole or the sections asked for.
 */
@Command(
    name = "config-dump",
    mixinStandardHelpOptions = true,
    description = "Prints the configuration a component runs, from its admin endpoint's /config_dump: a node agent "
        + "(node, mesh version, listeners, certificates, local workloads, the mesh it holds), a waypoint or the controller. "
        + "The table lists the sections; --section picks some; -o json or -o yaml prints them in full.")
public final class ConfigDumpCommand implements Callable<Integer> {

  @Option(names = {"--agent", "--admin"}, paramLabel = "<host:port>", defaultValue = "127.0.0.1:15000",
      converter = Endpoint.Converter.class,
      description = "the component's admin endpoint (default ${DEFAULT-VALUE}, the node agent on this host)")
  Endpoint admin;

  @Option(names = "--section", paramLabel = "<name>", split = ",",
      description = "only these top-level sections (repeat or separate with commas), e.g. version,listeners,certificates")
  List<String> sections = new ArrayList<>();

  @Mixin
  OutputOptions output;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode dump = new Http(Duration.ofSeconds(5)).json(admin.uri("/config_dump"), "the admin endpoint", Hints.ADMIN);
    if (!dump.isObject()) {
      throw new CliException("the config dump of " + admin + " is not a JSON object: is that a Capstan admin port?");
    }
    JsonNode shown = select(dump, sections, admin);
    Printer.print(spec.commandLine().getOut(), output.format(), shown, () -> DumpTable.render(shown, sections.size()));
    return 0;
  }

  /** The sections asked for (all when none), in the order asked; an unknown name is an error listing the known ones. */
  static JsonNode select(JsonNode dump, List<String> names, Endpoint from) {
    if (names.isEmpty()) {
      return dump;
    }
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Set<String> known = new LinkedHashSet<>();
    dump.fieldNames().forEachRemaining(known::add);
    for (String raw : names) {
      String name = raw.strip();
      if (!dump.has(name)) {
        throw new CliException("the config dump of " + from + " has no section '" + name + "'; it has: "
            + String.join(", ", known));
      }
      out.set(name, dump.get(name));
    }
    return out;
  }
}

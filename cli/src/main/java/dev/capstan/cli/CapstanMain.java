package dev.capstan.cli;

import dev.capstan.cli.check.CheckCommand;
import dev.capstan.cli.demo.DemoCommand;
import dev.capstan.cli.dump.ConfigDumpCommand;
import dev.capstan.cli.stat.StatCommand;
import dev.capstan.cli.status.StatusCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code capstan}: the front door. Subcommands are added here, by hand. */
@Command(
    name = "capstan",
    mixinStandardHelpOptions = true,
    version = "capstan 0.1.0-SNAPSHOT",
    description = "Capstan, a per-node service mesh: run a demo mesh on this machine (demo), check a node (check), "
        + "see who runs which config (status), traffic per workload (stat) and a component's configuration (config-dump).",
    subcommands = {DemoCommand.class, CheckCommand.class, StatusCommand.class, StatCommand.class, ConfigDumpCommand.class,
        CommandLine.HelpCommand.class})
public final class CapstanMain implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (try `capstan demo`)");
  }

  /** The command line as {@code main} runs it (tests call this too). */
  public static CommandLine commandLine() {
    return commandLine(CommandLine.defaultFactory());
  }

  /**
   * The command line with commands made by {@code factory} (tests inject probes and pauses). A
   * {@link CliException} is printed as one line, {@code capstan <command>: <message>}, and exits
   * with its code; nothing the user can fix ends in a stack trace.
   */
  public static CommandLine commandLine(CommandLine.IFactory factory) {
    CommandLine line = new CommandLine(new CapstanMain(), factory);
    line.setExecutionExceptionHandler((e, command, parsed) -> {
      if (e instanceof CliException cli) {
        command.getErr().println("capstan " + command.getCommandName() + ": " + cli.getMessage());
        command.getErr().flush();
        return cli.exitCode();
      }
      throw e;
    });
    return line;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}

package dev.capstan.cli;

import dev.capstan.cli.demo.DemoCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code capstan}: the front door. Subcommands are added here, by hand. */
@Command(
    name = "capstan",
    mixinStandardHelpOptions = true,
    version = "capstan 0.1.0-SNAPSHOT",
    description = "Capstan, a per-node service mesh: run a demo mesh on this machine (more commands are coming: check, status, stat, config-dump).",
    subcommands = {DemoCommand.class, CommandLine.HelpCommand.class})
public final class CapstanMain implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (try `capstan demo`)");
  }

  /** The command line as {@code main} runs it (tests call this too). */
  public static CommandLine commandLine() {
    return new CommandLine(new CapstanMain());
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}

package dev.capstan.redirect.exec;

import java.util.List;

/**
 * Runs a program with arguments (never a shell string) and returns how it ended. The kernel-facing
 * parts take this so they can be tested without root, and run in another network namespace by
 * prefixing {@code ip netns exec <ns>}.
 */
@FunctionalInterface
public interface Commands {

  /**
   * Runs {@code argv} with {@code stdin} (may be empty) as its input.
   *
   * @throws CommandException when the program cannot be started or does not finish in time
   */
  Result run(List<String> argv, String stdin);

  /** Runs without input. */
  default Result run(String... argv) {
    return run(List.of(argv), "");
  }

  /**
   * How a program ended.
   *
   * @param argv what ran
   * @param exitCode its exit status
   * @param stdout its standard output
   * @param stderr its standard error
   */
  record Result(List<String> argv, int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** Returns this result, or throws with the program's error output when it failed. */
    public Result orThrow() {
      if (!ok()) {
        throw new CommandException(String.join(" ", argv) + " failed with exit code " + exitCode + ": "
            + (stderr.isBlank() ? stdout : stderr).strip());
      }
      return this;
    }
  }
}

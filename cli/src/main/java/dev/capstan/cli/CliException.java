package dev.capstan.cli;

/**
 * A failure the user can act on: {@link CapstanMain} prints its message as one line on stderr (no
 * stack trace) and exits with {@link #exitCode()} — 2 by default, as for a usage error, since the
 * usual cause is an address or option the user gave.
 */
public class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int exitCode;

  public CliException(String message) {
    this(message, 2);
  }

  public CliException(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}

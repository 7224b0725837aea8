package dev.capstan.redirect.exec;

/** A command that could not run, ran too long, or failed where failure was not expected. */
public final class CommandException extends RuntimeException {
  public CommandException(String message) {
    super(message);
  }

  public CommandException(String message, Throwable cause) {
    super(message, cause);
  }
}

package dev.capstan.cli.check;

/**
 * One check as {@code capstan check} prints it.
 *
 * @param group what it belongs to: {@code kernel}, {@code runtime}, {@code ports}, {@code node agent}
 * @param name what was checked
 * @param status how it ended
 * @param detail what was seen (a version, a port's owner, an error)
 * @param hint what to do about it; empty when nothing is to be done
 */
public record Check(String group, String name, Status status, String detail, String hint) {

  /** {@link #WARN} is shown but does not fail the command; {@link #FAIL} does (exit code 1). */
  public enum Status { OK, WARN, FAIL }

  static Check ok(String group, String name, String detail) {
    return new Check(group, name, Status.OK, detail, "");
  }

  static Check warn(String group, String name, String detail, String hint) {
    return new Check(group, name, Status.WARN, detail, hint);
  }

  static Check fail(String group, String name, String detail, String hint) {
    return new Check(group, name, Status.FAIL, detail, hint);
  }
}

package dev.capstan.cli.check;

import dev.capstan.cli.output.OutputOptions;
import dev.capstan.cli.output.Printer;
import dev.capstan.cli.remote.Endpoint;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code capstan check [--pre]}: one line per check, {@code ✔} passed, {@code ‼} a warning,
 * {@code ✖} failed with a hint below it; exit code 1 when a required check failed.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
        "Checks that this node can run Capstan and, without --pre, that its node agent is healthy:",
        "  kernel   nftables installed and usable, nftables tproxy, policy routing, tcp_migrate_req, the iptables TPROXY"
            + " target, IP_TRANSPARENT and SO_MARK settable (need CAP_NET_ADMIN: warnings when not root)",
        "  runtime  JDK 17 or newer, Netty's native epoll, BoringSSL",
        "  ports    15000 15001 15006 15008 15020 15021: free (--pre) or held by this node's agent",
        "  agent    (not with --pre) its admin endpoint answers, the mesh is loaded, it is ready",
        "Exit code 0 when every required check passed (warnings allowed), 1 otherwise."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:every required check passed", "1:a required check failed", "2:bad option"})
public final class CheckCommand implements Callable<Integer> {

  @Option(names = "--pre", description = "before installing: the ports must be free, and no node agent is asked")
  boolean pre;

  @Option(names = "--admin", paramLabel = "<host:port>", defaultValue = "127.0.0.1:15000", converter = Endpoint.Converter.class,
      description = "the node agent's admin endpoint (default ${DEFAULT-VALUE}); not used with --pre")
  Endpoint admin;

  @Mixin
  OutputOptions output;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private final Supplier<Probes> probes;

  /** With the real probes. */
  public CheckCommand() {
    this(SystemProbes::new);
  }

  /** With these probes (tests). */
  public CheckCommand(Supplier<Probes> probes) {
    this.probes = probes;
  }

  /** What {@code -o json|yaml} prints. */
  public record Report(boolean passed, long failed, long warnings, List<Check> checks) {
    static Report of(List<Check> checks) {
      return new Report(Checks.passed(checks), count(checks, Check.Status.FAIL), count(checks, Check.Status.WARN), checks);
    }

    private static long count(List<Check> checks, Check.Status status) {
      return checks.stream().filter(c -> c.status() == status).count();
    }
  }

  @Override
  public Integer call() {
    // The probes load Netty, whose logging starts Logback: its WARN lines reach stderr; no log file is wanted.
    if (System.getProperty("capstan.log.file") == null) {
      System.setProperty("capstan.log.file", "/dev/null");
    }
    Report report = Report.of(new Checks(probes.get()).run(pre, admin));
    Printer.print(spec.commandLine().getOut(), output.format(), report, () -> render(report));
    return report.passed() ? 0 : 1;
  }

  /** Groups under underlined headings, a mark per check, hints indented below. */
  static String render(Report report) {
    StringBuilder b = new StringBuilder();
    String group = null;
    for (Check c : report.checks()) {
      if (!c.group().equals(group)) {
        if (group != null) {
          b.append('\n');
        }
        group = c.group();
        b.append(group).append('\n').append("-".repeat(group.length())).append('\n');
      }
      b.append(mark(c.status())).append(' ').append(c.name()).append(": ").append(c.detail()).append('\n');
      if (c.status() != Check.Status.OK && !c.hint().isEmpty()) {
        b.append("    hint: ").append(c.hint()).append('\n');
      }
    }
    b.append('\n');
    if (report.passed()) {
      b.append(String.format(Locale.ROOT, "Status check results are ✔%s%n",
          report.warnings() == 0 ? "" : " (" + report.warnings() + (report.warnings() == 1 ? " warning)" : " warnings)")));
    } else {
      b.append(String.format(Locale.ROOT, "Status check results are ✖: %d required check%s failed%n", report.failed(),
          report.failed() == 1 ? "" : "s"));
    }
    return b.toString();
  }

  static String mark(Check.Status status) {
    switch (status) {
      case OK:
        return "✔";
      case WARN:
        return "‼";
      default:
        return "✖";
    }
  }
}

package dev.capstan.redirect.probe;

import dev.capstan.redirect.exec.CommandException;
import dev.capstan.redirect.exec.Commands;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether this node can capture traffic: nftables present and usable, TPROXY supported by the
 * kernel, policy routing available, and (advisory) {@code tcp_migrate_req}. Each check says how to
 * fix what failed. {@code capstan-redirect check} prints it; {@code run} refuses to start without it.
 */
public final class CaptureProbe {

  /** How a check ended. {@link #WARN} does not stop capture. */
  public enum Status { OK, WARN, FAIL }

  /**
   * One check.
   *
   * @param name what was checked
   * @param status how it ended
   * @param detail what was seen, or how to fix it
   */
  public record Check(String name, Status status, String detail) {
    /** One line: {@code OK   nftables: nftables v1.0.6}. */
    public String line() {
      return String.format(Locale.ROOT, "%-4s %s: %s", status, name, detail);
    }
  }

  /**
   * All checks.
   *
   * @param checks in the order they ran
   */
  public record Report(List<Check> checks) {
    public Report {
      checks = List.copyOf(checks);
    }

    public boolean ok() {
      return checks.stream().noneMatch(c -> c.status() == Status.FAIL);
    }

    /** The checks that failed, one per line. */
    public String failures() {
      return String.join("\n", checks.stream().filter(c -> c.status() == Status.FAIL).map(Check::line).toList());
    }
  }

  private static final String PROBE_TABLE = "capstan_probe";
  private final Commands commands;

  public CaptureProbe(Commands commands) {
    this.commands = commands;
  }

  public Report run() {
    List<Check> checks = new ArrayList<>();
    Commands.Result version = attempt("nft", "--version");
    if (version == null) {
      checks.add(new Check("nftables", Status.FAIL, "the nft program is missing: install nftables (apt-get install nftables)"));
      return new Report(checks);
    }
    checks.add(new Check("nftables", Status.OK, version.stdout().strip()));
    Commands.Result list = attempt("nft", "list", "tables");
    if (list == null || !list.ok()) {
      checks.add(new Check("nftables usable", Status.FAIL, denied(list)
          ? "permission denied: run as root or with CAP_NET_ADMIN in the node's network namespace"
          : "nft list tables failed: " + message(list)));
      return new Report(checks);
    }
    checks.add(new Check("nftables usable", Status.OK, "nft can read the ruleset"));
    checks.add(tproxy());
    checks.add(policyRouting());
    checks.add(migrateReq());
    return new Report(checks);
  }

  /** Creates and deletes a throwaway table with a tproxy rule in one transaction: the kernel validates it. */
  private Check tproxy() {
    String script = """
        table ip %1$s {
          chain prerouting {
            type filter hook prerouting priority mangle; policy accept;
            meta l4proto tcp tproxy ip to 127.0.0.1:15001 meta mark set 0x1 accept
          }
        }
        delete table ip %1$s
        """.formatted(PROBE_TABLE);
    Commands.Result r;
    try {
      r = commands.run(List.of("nft", "-f", "-"), script);
    } catch (CommandException e) {
      return new Check("tproxy", Status.FAIL, e.getMessage());
    }
    if (r.ok()) {
      return new Check("tproxy", Status.OK, "the kernel accepts nftables tproxy rules");
    }
    return new Check("tproxy", Status.FAIL, denied(r)
        ? "permission denied: run as root or with CAP_NET_ADMIN"
        : "kernel lacks nft_tproxy (CONFIG_NFT_TPROXY) or nft_socket: " + message(r));
  }

  private Check policyRouting() {
    Commands.Result r = attempt("ip", "-4", "rule", "list");
    if (r == null) {
      return new Check("policy routing", Status.FAIL, "the ip program is missing: install iproute2");
    }
    if (!r.ok()) {
      return new Check("policy routing", Status.FAIL,
          "kernel lacks policy routing (CONFIG_IP_MULTIPLE_TABLES): " + message(r));
    }
    return new Check("policy routing", Status.OK, "ip rules are available");
  }

  private Check migrateReq() {
    Commands.Result r = attempt("sysctl", "-n", "net.ipv4.tcp_migrate_req");
    if (r == null || !r.ok()) {
      return new Check("tcp_migrate_req", Status.WARN, "net.ipv4.tcp_migrate_req is unavailable (kernel older than"
          + " 5.14?): connections pending in a stopping agent's accept queue are reset instead of migrated");
    }
    return new Check("tcp_migrate_req", Status.OK, "available (currently " + r.stdout().strip() + ")");
  }

  private Commands.Result attempt(String... argv) {
    try {
      return commands.run(argv);
    } catch (CommandException e) {
      return null;
    }
  }

  private static boolean denied(Commands.Result r) {
    return r != null && (r.stderr().contains("Operation not permitted") || r.stderr().contains("Permission denied"));
  }

  private static String message(Commands.Result r) {
    return r == null ? "could not run" : (r.stderr().isBlank() ? r.stdout() : r.stderr()).strip().replace('\n', ' ');
  }
}

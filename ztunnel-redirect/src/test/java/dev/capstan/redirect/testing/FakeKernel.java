package dev.capstan.redirect.testing;

import dev.capstan.redirect.exec.Commands;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Commands} that answers nft, ip and sysctl like a kernel would, in memory: the applied
 * script is what {@code nft list table} prints back; {@code ip route get} answers from a map.
 */
public final class FakeKernel implements Commands {

  public final List<String> applied = new ArrayList<>();
  public final List<List<String>> ran = new ArrayList<>();
  public final Map<String, String> podRoutes = new HashMap<>();
  public String table;
  public boolean rule;
  public boolean route;

  @Override
  public Result run(List<String> argv, String stdin) {
    ran.add(argv);
    String cmd = String.join(" ", argv);
    if (cmd.equals("nft -f -")) {
      applied.add(stdin);
      table = stdin;
      return ok(argv, "");
    }
    if (cmd.startsWith("nft list table ip ")) {
      return table == null ? fail(argv, "Error: No such file or directory") : ok(argv, table);
    }
    if (cmd.startsWith("nft delete table ip ")) {
      boolean had = table != null;
      table = null;
      return had ? ok(argv, "") : fail(argv, "Error: No such file or directory");
    }
    if (cmd.startsWith("ip -o route get ")) {
      String ip = argv.get(4);
      String dev = podRoutes.get(ip);
      return dev == null ? fail(argv, "RTNETLINK answers: Network is unreachable")
          : ok(argv, ip + " dev " + dev + " src 10.0.0.1 uid 0 \\    cache");
    }
    if (cmd.startsWith("ip -4 rule show")) {
      return ok(argv, rule ? "32765: from all fwmark 0x100000/0x100000 lookup 150\n" : "");
    }
    if (cmd.startsWith("ip -4 rule add")) {
      rule = true;
      return ok(argv, "");
    }
    if (cmd.startsWith("ip -4 rule del")) {
      rule = false;
      return ok(argv, "");
    }
    if (cmd.startsWith("ip -4 route show table")) {
      return ok(argv, route ? "local default dev lo scope host\n" : "");
    }
    if (cmd.startsWith("ip -4 route replace")) {
      route = true;
      return ok(argv, "");
    }
    if (cmd.startsWith("ip -4 route del")) {
      route = false;
      return ok(argv, "");
    }
    if (cmd.startsWith("sysctl")) {
      return ok(argv, "1\n");
    }
    return fail(argv, "fake kernel: unexpected command " + cmd);
  }

  private static Result ok(List<String> argv, String out) {
    return new Result(argv, 0, out, "");
  }

  private static Result fail(List<String> argv, String err) {
    return new Result(argv, 1, "", err);
  }
}

package dev.capstan.redirect.reconcile;

import static dev.capstan.redirect.config.RedirectConfig.hex;

import dev.capstan.redirect.config.RedirectConfig;
import dev.capstan.redirect.exec.Commands;

/**
 * The routing half of TPROXY: packets carrying the TPROXY mark look up a table whose only route is
 * {@code local 0.0.0.0/0 dev lo}, so they are delivered to the agent's transparent listener
 * instead of being forwarded. Ensured idempotently; removed on uninstall.
 */
public final class PolicyRouting {

  private final Commands commands;
  private final String fwmark;
  private final String table;

  public PolicyRouting(Commands commands, RedirectConfig.Capture capture) {
    this.commands = commands;
    this.fwmark = hex(capture.tproxyMark()) + "/" + hex(capture.tproxyMark());
    this.table = Integer.toString(capture.routeTable());
  }

  /** Adds the rule and the route if missing; returns whether anything had to be added. */
  public boolean ensure() {
    boolean changed = false;
    if (!rulePresent()) {
      commands.run("ip", "-4", "rule", "add", "fwmark", fwmark, "lookup", table).orThrow();
      changed = true;
    }
    if (!routePresent()) {
      commands.run("ip", "-4", "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", table).orThrow();
      changed = true;
    }
    return changed;
  }

  /** Removes every copy of the rule and the route; absent is fine. */
  public void remove() {
    for (int i = 0; i < 16 && rulePresent(); i++) {
      commands.run("ip", "-4", "rule", "del", "fwmark", fwmark, "lookup", table).orThrow();
    }
    if (routePresent()) {
      commands.run("ip", "-4", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", table).orThrow();
    }
  }

  public boolean rulePresent() {
    return !commands.run("ip", "-4", "rule", "show", "fwmark", fwmark, "lookup", table).orThrow().stdout().isBlank();
  }

  public boolean routePresent() {
    Commands.Result r = commands.run("ip", "-4", "route", "show", "table", table);
    return r.ok() && r.stdout().lines().anyMatch(l -> l.startsWith("local default") || l.startsWith("local 0.0.0.0/0"));
  }
}

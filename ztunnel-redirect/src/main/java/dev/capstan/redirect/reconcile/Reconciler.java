package dev.capstan.redirect.reconcile;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.model.Workload;
import dev.capstan.redirect.config.RedirectConfig;
import dev.capstan.redirect.exec.CommandException;
import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.nft.CapturedPod;
import dev.capstan.redirect.nft.Listing;
import dev.capstan.redirect.nft.Ruleset;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the kernel capture what the mesh says: renders the desired table from this node's
 * workloads and applies it when it differs from what was last applied, or when the kernel's table
 * drifted from it (deleted or edited by hand). Nothing is applied when nothing changed, so counters
 * survive. Not thread-safe: one thread calls it.
 */
public final class Reconciler {

  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

  /** What a reconcile did. */
  public enum Action {
    /** No mesh has been published yet: nothing touched. */
    WAITING_FOR_MESH,
    /** The kernel already has the desired state. */
    UNCHANGED,
    /** The desired state changed and was applied. */
    APPLIED,
    /** The kernel's table differed from the last apply and was re-applied. */
    REPAIRED_DRIFT
  }

  /**
   * The result of one reconcile.
   *
   * @param action what was done
   * @param captured pod IPs captured in both directions
   * @param waiting pod IPs without an interface yet (inbound capture only)
   */
  public record Outcome(Action action, int captured, int waiting) {}

  private final RedirectConfig config;
  private final Commands commands;
  private final Interfaces interfaces;
  private final PolicyRouting routing;
  /** The last mesh seen: kept while the mesh is unavailable. */
  private List<Workload> lastMesh;
  private String appliedScript;
  private String appliedListing;
  private Set<String> lastWaiting = Set.of();

  public Reconciler(RedirectConfig config, Commands commands) {
    this.config = config;
    this.commands = commands;
    this.interfaces = new Interfaces(commands);
    this.routing = new PolicyRouting(commands, config.capture());
  }

  /**
   * Node-wide settings, once at start: {@code tcp_migrate_req} lets a stopping agent's listeners
   * hand their pending connections to the new agent's {@code SO_REUSEPORT} listeners.
   */
  public void prepare() {
    Commands.Result r = commands.run("sysctl", "-w", "net.ipv4.tcp_migrate_req=1");
    if (!r.ok()) {
      LOG.warn("could not set net.ipv4.tcp_migrate_req=1 (connections queued at a restarting agent will be reset): {}",
          r.stderr().strip());
    }
  }

  /**
   * One pass. {@code mesh} is every workload of the published mesh, or empty when none is
   * available (not published yet, controller unreachable): then the last known mesh stays in force.
   *
   * @throws CommandException when nft or ip fail; the next pass tries again
   */
  public Outcome reconcile(Optional<List<Workload>> mesh) {
    mesh.ifPresent(m -> lastMesh = List.copyOf(m));
    if (lastMesh == null) {
      return new Outcome(Action.WAITING_FOR_MESH, 0, 0);
    }
    List<CapturedPod> pods = desiredPods(lastMesh);
    int waiting = (int) pods.stream().filter(p -> p.iface().isEmpty()).count();
    int captured = pods.size() - waiting;
    logWaiting(pods);
    if (routing.ensure()) {
      LOG.info("policy routing installed: fwmark {} -> table {} (local default via lo)",
          RedirectConfig.hex(config.capture().tproxyMark()), config.capture().routeTable());
    }
    String script = Ruleset.render(config.table(), config.capture(), pods);
    if (script.equals(appliedScript)) {
      Optional<String> listing = list();
      if (listing.isPresent() && Listing.normalize(listing.get()).equals(appliedListing)) {
        return new Outcome(Action.UNCHANGED, captured, waiting);
      }
      LOG.warn("repaired drift: table ip {} {}", config.table(),
          listing.isEmpty() ? "was gone" : "differed from the last apply");
      apply(script);
      return new Outcome(Action.REPAIRED_DRIFT, captured, waiting);
    }
    apply(script);
    LOG.info("applied table ip {}: {} pod IPs captured, {} waiting for an interface", config.table(), captured, waiting);
    return new Outcome(Action.APPLIED, captured, waiting);
  }

  /** Removes the table, the ip rule and the route; absent parts are fine. */
  public void uninstall() {
    Commands.Result r = commands.run("nft", "delete", "table", "ip", config.table());
    if (!r.ok() && list().isPresent()) {
      r.orThrow();
    }
    routing.remove();
    appliedScript = null;
    appliedListing = null;
  }

  /**
   * The enrolled pods of this node, each IPv4 address resolved to its interface. A waypoint's
   * pods are left out ({@link Workload#captured()}): their HBONE, inbound and outbound, is theirs.
   */
  List<CapturedPod> desiredPods(List<Workload> mesh) {
    List<CapturedPod> pods = new ArrayList<>();
    for (Workload w : mesh) {
      if (!w.node().equals(config.node())) {
        continue;
      }
      String name = w.namespace() + "/" + w.name();
      if (!w.captured()) {
        LOG.debug("{}: a waypoint's pod (or opted out): not captured", name);
        continue;
      }
      for (String ip : w.ips()) {
        Optional<InetAddress> address = Hbone.literalIp(ip);
        if (address.isPresent() && address.get() instanceof Inet4Address v4) {
          pods.add(interfaces.resolve(name, v4));
        } else {
          LOG.debug("{}: address {} is not IPv4 and is not captured (IPv4 only)", name, ip);
        }
      }
    }
    return pods;
  }

  private void logWaiting(List<CapturedPod> pods) {
    Set<String> waiting = new TreeSet<>();
    for (CapturedPod p : pods) {
      if (p.iface().isEmpty()) {
        waiting.add(p.workload() + " " + p.address() + ": " + p.waiting());
      }
    }
    if (!waiting.equals(lastWaiting)) {
      waiting.forEach(w -> LOG.warn("pod not attached yet, inbound captured, outbound and anti-spoofing wait: {}", w));
    }
    lastWaiting = waiting;
  }

  private void apply(String script) {
    commands.run(List.of("nft", "-f", "-"), script).orThrow();
    appliedScript = script;
    appliedListing = list().map(Listing::normalize)
        .orElseThrow(() -> new CommandException("table ip " + config.table() + " missing right after it was applied"));
  }

  /** The kernel's listing of the table, or empty when it does not exist. */
  public Optional<String> list() {
    Commands.Result r = commands.run("nft", "list", "table", "ip", config.table());
    return r.ok() ? Optional.of(r.stdout()) : Optional.empty();
  }
}

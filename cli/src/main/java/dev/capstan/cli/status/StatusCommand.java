package dev.capstan.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capstan.cli.CliException;
import dev.capstan.cli.output.OutputOptions;
import dev.capstan.cli.output.Printer;
import dev.capstan.cli.output.Table;
import dev.capstan.cli.remote.Endpoint;
import dev.capstan.cli.remote.Hints;
import dev.capstan.cli.remote.Http;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code capstan status}: reads the {@code /config_dump} of each controller replica, agent and
 * waypoint given, and prints who runs which config version against the latest the leader
 * published. Agents and waypoints connected to the controller but not given still appear (their
 * version unknown). Endpoints that cannot be read are listed on stderr, and the exit code is 2.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
        "Shows the controller replicas (leader, Hazelcast members, the config version published last), the node agents"
            + " and waypoints (connected to the controller, ready, the config version each runs: SYNCED with the latest,"
            + " STALE, or NO MESH), from their admin endpoints' /config_dump.",
        "Agents and waypoints connected to the controller appear even when not given, without their version."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:every endpoint answered", "2:an endpoint could not be read, or a bad option"})
public final class StatusCommand implements Callable<Integer> {

  @Option(names = "--controller", paramLabel = "<host:port>", split = ",", converter = Endpoint.Converter.class,
      description = "admin endpoints of controller replicas (repeat or separate with commas)")
  List<Endpoint> controllers = new ArrayList<>();

  @Option(names = "--agents", paramLabel = "<host:port>", split = ",", converter = Endpoint.Converter.class,
      description = "admin endpoints of node agents (repeat or separate with commas)")
  List<Endpoint> agents = new ArrayList<>();

  @Option(names = "--waypoints", paramLabel = "<host:port>", split = ",", converter = Endpoint.Converter.class,
      description = "admin endpoints of waypoints (repeat or separate with commas)")
  List<Endpoint> waypoints = new ArrayList<>();

  @Mixin
  OutputOptions output;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private final Http http = new Http(Duration.ofSeconds(5));

  @Override
  public Integer call() {
    if (controllers.isEmpty() && agents.isEmpty() && waypoints.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "give at least one admin endpoint: --controller <host:port> and/or --agents <host:port>,... (e.g. --controller 127.0.0.1:15000)");
    }
    StatusReport report = collect();
    PrintWriter out = spec.commandLine().getOut();
    Printer.print(out, output.format(), report, () -> render(report));
    if (!report.errors().isEmpty()) {
      PrintWriter err = spec.commandLine().getErr();
      report.errors().forEach(e -> err.println("capstan status: " + e));
      err.flush();
      return 2;
    }
    return 0;
  }

  private StatusReport collect() {
    List<String> errors = new ArrayList<>();
    List<StatusReport.Controller> replicas = new ArrayList<>();
    for (Endpoint e : controllers) {
      dump(e, "the controller's admin endpoint", "leader", errors).ifPresent(d -> replicas.add(controller(e, d)));
    }
    String latest = replicas.stream().filter(c -> c.leader() && c.published() != null).map(StatusReport.Controller::published)
        .findFirst().orElse(null);
    boolean clientsKnown = replicas.stream().anyMatch(c -> c.clients() != null);
    List<StatusReport.Client> clients = new ArrayList<>();
    replicas.stream().filter(c -> c.clients() != null).flatMap(c -> c.clients().stream())
        .filter(c -> clients.stream().noneMatch(k -> k.name().equals(c.name())))
        .forEach(clients::add);

    List<StatusReport.Proxy> proxies = new ArrayList<>();
    for (Endpoint e : agents) {
      dump(e, "the node agent's admin endpoint", "node", errors).ifPresent(d -> {
        String node = d.path("node").asText();
        Boolean connected = clientsKnown ? Boolean.valueOf(take(clients, "agent", node)) : null;
        String version = text(d, "version");
        proxies.add(new StatusReport.Proxy("agent", node, e.address(), connected, bool(d, "ready"), version,
            sync(version, d.path("meshReady").asBoolean(true), latest)));
      });
    }
    for (Endpoint e : waypoints) {
      dump(e, "the waypoint's admin endpoint", "routes", errors).ifPresent(d -> {
        String namespace = d.has("namespace") ? d.path("namespace").asText() : text(d, "listen");
        Boolean connected = !"controller".equals(text(d, "source")) ? null
            : clientsKnown ? Boolean.valueOf(take(clients, "waypoint", namespace)) : null;
        String version = text(d, "version");
        proxies.add(new StatusReport.Proxy("waypoint", namespace, e.address(), connected, bool(d, "ready"), version,
            sync(version, true, latest)));
      });
    }
    // Connected to the controller, not asked: listed so nothing is missed, their version unknown.
    for (StatusReport.Client c : clients) {
      if (c.kind().equals("agent") || c.kind().equals("waypoint")) {
        proxies.add(new StatusReport.Proxy(c.kind(), c.of(), null, true, null, null, null));
      }
    }
    proxies.sort(Comparator.comparing(StatusReport.Proxy::kind).thenComparing(StatusReport.Proxy::name));
    return new StatusReport(latest, List.copyOf(replicas), List.copyOf(proxies), List.copyOf(errors));
  }

  /** The config dump at {@code e}, which must have {@code mark} (what tells the component's kind); else an error line. */
  private Optional<JsonNode> dump(Endpoint e, String what, String mark, List<String> errors) {
    JsonNode d;
    try {
      d = http.json(e.uri("/config_dump"), what, Hints.ADMIN);
    } catch (CliException ex) {
      errors.add(ex.getMessage());
      return Optional.empty();
    }
    if (!d.has(mark)) {
      String looks = d.has("leader") ? "a controller's (give it to --controller)" : d.has("node") ? "a node agent's (give it to --agents)"
          : d.has("routes") ? "a waypoint's (give it to --waypoints)" : "not a Capstan component's";
      errors.add(e.address() + " is not " + what.replace("the ", "a ").replace("'s admin endpoint", "") + ": its config dump is "
          + looks);
      return Optional.empty();
    }
    return Optional.of(d);
  }

  private static StatusReport.Controller controller(Endpoint e, JsonNode d) {
    List<String> members = new ArrayList<>();
    d.path("members").forEach(m -> members.add(m.asText()));
    List<StatusReport.Client> clients = null;
    if (d.has("clients")) {
      clients = new ArrayList<>();
      for (JsonNode c : d.path("clients")) {
        clients.add(client(c.path("name").asText(), c.path("address").asText()));
      }
    }
    JsonNode published = d.path("published");
    return new StatusReport.Controller(d.path("name").asText(), e.address(), d.path("leader").asBoolean(), bool(d, "ready"),
        List.copyOf(members), published.isObject() ? text(published, "version") : null, clients == null ? null : List.copyOf(clients));
  }

  /** What a client's instance name says: {@code capstan-agent-<node>}, {@code capstan-waypoint-<namespace>-<uuid>}, {@code capstan-redirect-<node>}. */
  static StatusReport.Client client(String name, String address) {
    if (name.startsWith("capstan-agent-")) {
      return new StatusReport.Client(name, "agent", name.substring("capstan-agent-".length()), address);
    }
    if (name.startsWith("capstan-waypoint-")) {
      String rest = name.substring("capstan-waypoint-".length());
      // the namespace, then a random UUID (36 characters) that keeps replicas apart
      String namespace = rest.length() > 37 && rest.charAt(rest.length() - 37) == '-' ? rest.substring(0, rest.length() - 37) : rest;
      return new StatusReport.Client(name, "waypoint", namespace, address);
    }
    if (name.startsWith("capstan-redirect-")) {
      return new StatusReport.Client(name, "redirect", name.substring("capstan-redirect-".length()), address);
    }
    return new StatusReport.Client(name, "other", name, address);
  }

  /** Removes the first client of that kind serving {@code of}; whether there was one. */
  private static boolean take(List<StatusReport.Client> clients, String kind, String of) {
    for (int i = 0; i < clients.size(); i++) {
      if (clients.get(i).kind().equals(kind) && clients.get(i).of().equals(of)) {
        clients.remove(i);
        return true;
      }
    }
    return false;
  }

  static String sync(String version, boolean loaded, String latest) {
    if (!loaded) {
      return "NO MESH";
    }
    if (version == null || latest == null) {
      return null;
    }
    return version.equals(latest) ? "SYNCED" : "STALE";
  }

  private static String text(JsonNode d, String field) {
    JsonNode v = d.path(field);
    return v.isValueNode() && !v.isNull() ? v.asText() : null;
  }

  private static Boolean bool(JsonNode d, String field) {
    return d.path(field).isBoolean() ? Boolean.valueOf(d.path(field).asBoolean()) : null;
  }

  static String render(StatusReport r) {
    StringBuilder b = new StringBuilder();
    if (!r.controllers().isEmpty()) {
      Table t = new Table("CONTROLLER", "ADMIN", "LEADER", "READY", "PUBLISHED", "HAZELCAST MEMBERS", "CLIENTS");
      r.controllers().forEach(c -> t.row(c.name(), c.admin(), yesNo(c.leader()), yesNo(c.ready()), c.published(),
          String.join(",", c.members()), c.clients() == null ? null : c.clients().size()));
      b.append(t.render()).append('\n');
    }
    if (!r.proxies().isEmpty()) {
      Table t = new Table("NAME", "KIND", "ADMIN", "CONNECTED", "READY", "CONFIG VERSION", "SYNC");
      r.proxies().forEach(p -> t.row(p.name(), p.kind(), p.admin(), yesNo(p.connected()), yesNo(p.ready()), p.version(), p.sync()));
      b.append(t.render()).append('\n');
    }
    if (r.latestVersion() != null) {
      long stale = r.proxies().stream().filter(p -> p.sync() != null && !p.sync().equals("SYNCED")).count();
      long unknown = r.proxies().stream().filter(p -> p.version() == null).count();
      b.append("latest config version: ").append(r.latestVersion());
      b.append(stale == 0 && unknown == 0 && !r.proxies().isEmpty() ? " (every proxy runs it)"
          : stale > 0 ? " (" + stale + " proxy(ies) do not run it)" : "");
      b.append('\n');
      if (unknown > 0) {
        b.append("(").append(unknown).append(" connected proxy(ies) not asked: give their admin endpoints with --agents/--waypoints"
            + " to see their versions)\n");
      }
    } else if (!r.controllers().isEmpty()) {
      b.append("latest config version: unknown (no leader among the controllers asked)\n");
    } else {
      b.append("latest config version: unknown (give --controller to compare)\n");
    }
    return b.toString();
  }

  private static String yesNo(Boolean b) {
    return b == null ? null : b ? "yes" : "no";
  }
}

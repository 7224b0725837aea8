package dev.capstan.cli.check;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capstan.cli.CliException;
import dev.capstan.cli.remote.Endpoint;
import dev.capstan.cli.remote.Http;
import dev.capstan.redirect.probe.CaptureProbe;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The checks and what their results mean, from what {@link Probes} found: which are required
 * (a failure exits 1), which only warn, and the hint each failure carries. Kernel checks that need
 * {@code CAP_NET_ADMIN} are warnings, not failures, when this process lacks it: the node agent
 * has it, and the check could not tell.
 */
public final class Checks {

  static final String KERNEL = "kernel";
  static final String RUNTIME = "runtime";
  static final String PORTS = "ports";
  static final String AGENT = "node agent";
  static final int MIN_JAVA = 17;

  /** A port the node agent owns, and what for. */
  record Port(int number, String use, boolean capture) {}

  /** The node agent's ports (docs/architecture.md; DESIGN "Ports"). */
  static final List<Port> PORTS_OF_THE_AGENT = List.of(
      new Port(15000, "admin", false),
      new Port(15001, "outbound capture", true),
      new Port(15006, "inbound plaintext capture", true),
      new Port(15008, "HBONE", false),
      new Port(15020, "metrics", false),
      new Port(15021, "readiness", false));

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AS_ROOT = "run `sudo capstan check` to test it: the node agent and the redirect hold CAP_NET_ADMIN";

  private final Probes probes;

  public Checks(Probes probes) {
    this.probes = probes;
  }

  /**
   * Runs every check.
   *
   * @param pre before installing: the ports must be free, and no agent is asked
   * @param admin the node agent's admin endpoint, asked when not {@code pre}
   */
  public List<Check> run(boolean pre, Endpoint admin) {
    List<Check> checks = new ArrayList<>();
    boolean netAdmin = probes.netAdmin();
    kernel(checks, netAdmin);
    runtime(checks);
    Optional<AgentDump> agent = Optional.empty();
    List<Check> agentChecks = new ArrayList<>();
    if (!pre) {
      agent = agent(agentChecks, admin);
    }
    ports(checks, pre, admin, agent);
    checks.addAll(agentChecks);
    return List.copyOf(checks);
  }

  private void kernel(List<Check> checks, boolean netAdmin) {
    if (!netAdmin) {
      checks.add(Check.warn(KERNEL, "privileges", "this process lacks CAP_NET_ADMIN: checks that need it are warnings, not results",
          AS_ROOT));
    }
    for (CaptureProbe.Check c : probes.capture().checks()) {
      checks.add(capture(c, netAdmin));
    }
    Optional<String> xt = probes.xtTproxy();
    checks.add(xt.isPresent()
        ? Check.ok(KERNEL, "iptables TPROXY target (xt_TPROXY)", xt.get())
        : Check.warn(KERNEL, "iptables TPROXY target (xt_TPROXY)", "not found (not loaded, no module, not built in)"
            + (netAdmin ? "" : "; without CAP_NET_ADMIN the list of loaded targets may be unreadable"),
            "only iptables-based redirection needs it; Capstan's redirect uses nftables tproxy (checked above)"));
    checks.add(socketOption("IP_TRANSPARENT", probes.ipTransparent(), netAdmin,
        "the capture listeners accept connections addressed to other hosts' IPs"));
    checks.add(socketOption("SO_MARK", probes.soMark(), netAdmin,
        "the agent marks its own sockets so the redirect never captures them"));
  }

  private static Check capture(CaptureProbe.Check c, boolean netAdmin) {
    String name = displayName(c.name());
    if (c.status() == CaptureProbe.Status.OK) {
      return Check.ok(KERNEL, name, c.detail());
    }
    boolean denied = c.detail().contains("permission denied") || c.detail().contains("Operation not permitted");
    if (denied && !netAdmin) {
      return Check.warn(KERNEL, name, "not tested: " + c.detail(), AS_ROOT);
    }
    String hint;
    switch (c.name()) {
      case "nftables":
        hint = "install nftables (apt-get install nftables; the redirect runs nft)";
        break;
      case "nftables usable":
        hint = denied ? AS_ROOT : "nft must list the ruleset in the node's network namespace";
        break;
      case "tproxy":
        hint = "load the modules (modprobe nft_tproxy nft_socket) or use a kernel with CONFIG_NFT_TPROXY and CONFIG_NFT_SOCKET";
        break;
      case "policy routing":
        hint = "install iproute2; the kernel needs CONFIG_IP_MULTIPLE_TABLES (TPROXY'd packets are routed to `local` by mark)";
        break;
      default:
        hint = "without it, connections pending in a stopping agent's accept queue are reset during restarts";
        break;
    }
    return c.status() == CaptureProbe.Status.WARN ? Check.warn(KERNEL, name, c.detail(), hint) : Check.fail(KERNEL, name, c.detail(), hint);
  }

  /** The redirect probe's terse names, as a reader of {@code capstan check} knows them. */
  private static String displayName(String probeName) {
    switch (probeName) {
      case "nftables":
        return "nftables installed";
      case "nftables usable":
        return "nftables usable";
      case "tproxy":
        return "nftables tproxy (TPROXY)";
      default:
        return probeName;
    }
  }

  private static Check socketOption(String option, Optional<String> error, boolean netAdmin, String why) {
    String name = option + " settable";
    if (error.isEmpty()) {
      return Check.ok(KERNEL, name, "the kernel lets this process set " + option + " (" + why + ")");
    }
    String e = error.get();
    if (e.contains("not permitted") || e.contains("EPERM") || e.contains("ermission denied")) {
      return netAdmin
          ? Check.fail(KERNEL, name, "refused with CAP_NET_ADMIN held: " + e, "a security module (seccomp, AppArmor, SELinux) may block it")
          : Check.warn(KERNEL, name, "not tested: setting " + option + " needs CAP_NET_ADMIN, which this process lacks (" + e + ")",
              AS_ROOT);
    }
    return Check.fail(KERNEL, name, e, option + " needs Linux and Netty's native epoll transport (linux-x86_64)");
  }

  private void runtime(List<Check> checks) {
    Runtime.Version v = probes.java();
    String seen = "Java " + v + " (" + System.getProperty("java.vendor", "unknown vendor") + ")";
    checks.add(v.feature() >= MIN_JAVA
        ? Check.ok(RUNTIME, "JDK " + MIN_JAVA + " or newer", seen)
        : Check.fail(RUNTIME, "JDK " + MIN_JAVA + " or newer", seen + " is too old",
            "install a JDK " + MIN_JAVA + " or newer (e.g. apt-get install openjdk-17-jdk-headless) and put it first on PATH"));
    Optional<String> epoll = probes.epollUnavailable();
    checks.add(epoll.isEmpty()
        ? Check.ok(RUNTIME, "native epoll transport", "Netty's epoll loaded (IP_TRANSPARENT, SO_MARK, SO_REUSEPORT available)")
        : Check.fail(RUNTIME, "native epoll transport", "did not load: " + epoll.get(),
            "capture needs Linux on x86_64 with Netty's native epoll; without it only explicit-proxy mode works"));
    Optional<String> ssl = probes.boringSslUnavailable();
    checks.add(ssl.isEmpty()
        ? Check.ok(RUNTIME, "BoringSSL (netty-tcnative)", "loaded: TLS runs on BoringSSL")
        : Check.warn(RUNTIME, "BoringSSL (netty-tcnative)", "did not load: " + ssl.get(),
            "TLS falls back to the JDK's engine, which works but handshakes are slower"));
  }

  /** What the agent's {@code /config_dump} says, and its ports. */
  record AgentDump(JsonNode dump, Map<Integer, String> listenerPorts) {}

  private Optional<AgentDump> agent(List<Check> checks, Endpoint admin) {
    JsonNode dump;
    try {
      Http.Answer answer = probes.get(admin.uri("/config_dump"), "the node agent's admin endpoint");
      if (answer.status() != 200) {
        checks.add(Check.fail(AGENT, "admin endpoint", admin + " answered HTTP " + answer.status(),
            "is " + admin.address() + " the agent's admin port (15000 by default)?"));
        return Optional.empty();
      }
      dump = JSON.readTree(answer.body());
    } catch (CliException e) {
      checks.add(Check.fail(AGENT, "admin endpoint", e.getMessage(),
          "start the node agent, point --admin at it, or run `capstan check --pre` before installing"));
      return Optional.empty();
    } catch (JsonProcessingException e) {
      checks.add(Check.fail(AGENT, "admin endpoint", admin + " did not answer a JSON config dump",
          "is " + admin.address() + " the agent's admin port (15000 by default), not its metrics or readiness port?"));
      return Optional.empty();
    }
    if (!dump.has("node")) {
      String looks = dump.has("leader") ? "a controller's" : dump.has("routes") ? "a waypoint's" : "another component's";
      checks.add(Check.fail(AGENT, "admin endpoint", admin.address() + " answers with " + looks + " config dump, not a node agent's",
          "point --admin at the node agent's admin port"));
      return Optional.empty();
    }
    String node = dump.path("node").asText();
    checks.add(Check.ok(AGENT, "admin endpoint", "the node agent of " + node + " answers at " + admin.address()));
    String version = dump.path("version").asText("");
    checks.add(dump.path("meshReady").asBoolean(false)
        ? Check.ok(AGENT, "mesh loaded", "config version " + version)
        : Check.fail(AGENT, "mesh loaded", "no mesh yet (version '" + version + "')",
            "the agent waits for the controller: `capstan status --controller <admin>` shows what it published"));
    if (dump.has("ready")) {
      checks.add(dump.path("ready").asBoolean(false)
          ? Check.ok(AGENT, "ready", "ready to carry traffic")
          : Check.fail(AGENT, "ready", "not ready: the mesh, a local workload's certificate or the capture listeners are missing, or it drains",
              "`capstan config-dump --section certificates,localWorkloads,listeners` shows what it holds; its log says why"));
    }
    int certificates = dump.path("certificates").size();
    int local = dump.path("localWorkloads").size();
    checks.add(Check.ok(AGENT, "certificates", certificates + " certificate(s) for " + local + " local workload(s)"));
    Map<Integer, String> ports = new HashMap<>();
    dump.path("listeners").properties().forEach(e -> {
      String address = e.getValue().asText();
      int colon = address.lastIndexOf(':');
      try {
        ports.put(Integer.parseInt(address.substring(colon + 1)), e.getKey());
      } catch (NumberFormatException | StringIndexOutOfBoundsException ignored) {
        // not host:port: not a listener this check can match to a port
      }
    });
    return Optional.of(new AgentDump(dump, ports));
  }

  private void ports(List<Check> checks, boolean pre, Endpoint admin, Optional<AgentDump> agent) {
    for (Port port : PORTS_OF_THE_AGENT) {
      String name = port.number() + " (" + port.use() + ")";
      boolean free = probes.portFree(port.number());
      if (pre) {
        checks.add(free
            ? Check.ok(PORTS, name, "free")
            : Check.fail(PORTS, name, "in use by another process",
                "`ss -ltnp 'sport = :" + port.number() + "'` names it; the node agent needs this port"));
        continue;
      }
      if (free) {
        checks.add(Check.warn(PORTS, name, "nothing listens here",
            port.capture() ? "expected when the agent runs without capture (explicit-proxy mode)"
                : "the node agent listens here with its default configuration: is it running with other ports?"));
        continue;
      }
      Optional<String> owner = owner(port, admin, agent);
      checks.add(owner.isPresent()
          ? Check.ok(PORTS, name, "the node agent's " + owner.get())
          : Check.fail(PORTS, name, "in use, and not by this node's agent" + (agent.isEmpty() ? " (its admin endpoint did not answer)" : ""),
              "`ss -ltnp 'sport = :" + port.number() + "'` names the process holding it"));
    }
  }

  /** Which of the agent's listeners holds {@code port}, when its config dump or its endpoints say so. */
  private Optional<String> owner(Port port, Endpoint admin, Optional<AgentDump> agent) {
    if (agent.isEmpty()) {
      return Optional.empty();
    }
    if (port.number() == admin.port()) {
      return Optional.of("admin endpoint");
    }
    String listener = agent.get().listenerPorts().get(port.number());
    if (listener != null) {
      return Optional.of(listener + " listener");
    }
    try {
      if (port.use().equals("metrics")) {
        Http.Answer a = probes.get(new Endpoint(admin.host(), port.number(), "").uri("/metrics"), "the metrics endpoint");
        return a.status() == 200 && a.body().contains("capstan_") ? Optional.of("metrics endpoint") : Optional.empty();
      }
      if (port.use().equals("readiness")) {
        Http.Answer a = probes.get(new Endpoint(admin.host(), port.number(), "").uri("/healthz/ready"), "the readiness endpoint");
        return (a.status() == 200 || a.status() == 503) && a.body().contains("ready")
            ? Optional.of("readiness endpoint (" + a.body().strip() + ")") : Optional.empty();
      }
    } catch (CliException unreachable) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  /** Whether every required check passed. */
  public static boolean passed(List<Check> checks) {
    return checks.stream().noneMatch(c -> c.status() == Check.Status.FAIL);
  }
}

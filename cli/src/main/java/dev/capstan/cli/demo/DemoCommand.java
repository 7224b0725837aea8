package dev.capstan.cli.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code capstan demo}: starts {@link DemoMesh}, drives the {@link Frontend}'s traffic through it
 * with a progress line per second, prints the {@link Summary}, then either exits ({@code
 * --duration}) or leaves the mesh up with its metrics and admin endpoints until Ctrl-C.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Runs a whole Capstan mesh on this machine, clusterless and without root, in this one JVM: "
        + "the controller (embedded Hazelcast, the CA, the manifests of examples/demo), node agents for node-a and "
        + "node-b (explicit-proxy mode), the waypoint of namespace `reviews`, and the apps reviews v1 and v2 on "
        + "loopback pod addresses. The frontend pod sends requests through agent node-a, the waypoint (an HTTPRoute "
        + "splitting 90/10) and agent node-b: a progress line each second, then a summary. Without --duration: "
        + "10 s of traffic, then everything stays up (metrics, admin) until Ctrl-C.")
public final class DemoCommand implements Callable<Integer> {

  private static final Duration INTERACTIVE_TRAFFIC = Duration.ofSeconds(10);

  @Option(names = "--duration", paramLabel = "<duration>", converter = DurationConverter.class,
      description = "send traffic this long (e.g. 30s, 2m, 500ms), print the summary and exit: 0 when every request succeeded")
  Duration duration;

  @Option(names = "--connections", defaultValue = "4", paramLabel = "<n>",
      description = "concurrent frontend connections (default ${DEFAULT-VALUE}, 1 to 64)")
  int connections;

  @Option(names = "--rate", defaultValue = "200", paramLabel = "<req/s>",
      description = "requests per second in all (default ${DEFAULT-VALUE}, 1 to 5000)")
  int rate;

  @Option(names = "--manifests", paramLabel = "<dir>",
      description = "a directory with the demo's manifests (mesh.yaml, waypoint.yaml, routes.yaml) instead of those in the jar; $${hbonePort} and $${appPort} in them are filled in")
  Path manifests;

  @Option(names = "--keep", description = "keep the run directory (configs, manifests, CA root, log) after exit")
  boolean keep;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private volatile Summary summary;

  /** The summary of the last run (tests read it). */
  public Summary summary() {
    return summary;
  }

  @Override
  public Integer call() throws Exception {
    if (connections < 1 || connections > 64) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--connections must be 1 to 64, got " + connections);
    }
    if (rate < 1 || rate > 5000) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--rate must be 1 to 5000, got " + rate);
    }
    if (rate < connections) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--rate (" + rate + ") must be at least --connections (" + connections + ")");
    }
    if (duration != null && (duration.isNegative() || duration.isZero() || duration.compareTo(Duration.ofHours(24)) > 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be more than 0 and at most 24h, got " + duration);
    }
    if (manifests != null) {
      for (String name : DemoMesh.MANIFESTS) {
        if (!Files.isRegularFile(manifests.resolve(name))) {
          throw new CommandLine.ParameterException(spec.commandLine(),
              "--manifests " + manifests + ": " + name + " is missing (the demo reads " + String.join(", ", DemoMesh.MANIFESTS) + ")");
        }
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dir = Files.createTempDirectory("capstan-demo-");
    Path log = dir.resolve("demo.log");
    // Before the first logger exists: the CLI's logback.xml writes everything there.
    System.setProperty("capstan.log.file", log.toString());
    out.printf("capstan demo: starting a clusterless mesh in this JVM (run directory %s)%n", dir);
    out.flush();
    Cleanup cleanup = new Cleanup(dir, keep, out);
    // Ctrl-C (or SIGTERM) at any point: stop what runs and remove the run directory before the JVM exits.
    Thread hook = new Thread(cleanup::stop, "capstan-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      long began = System.nanoTime();
      DemoMesh mesh;
      try {
        mesh = DemoMesh.start(dir, Optional.ofNullable(manifests), true);
      } catch (Exception e) {
        out.printf("capstan demo: could not start: %s%n  the log: %s%n", e.getMessage(), log);
        cleanup.failed();
        return 1;
      }
      cleanup.mesh(mesh);
      out.printf(Locale.ROOT, "mesh ready in %.1f s%n", (System.nanoTime() - began) / 1e9);
      printWhere(out, mesh);
      Duration traffic = duration != null ? duration : INTERACTIVE_TRAFFIC;
      out.printf("traffic: frontend-1 (%s) → agent node-a → waypoint → agent node-b → reviews v1/v2, %d connections, %d req/s, %s%n",
          DemoMesh.FRONTEND_IP, connections, rate, format(traffic));
      out.flush();
      Frontend frontend = new Frontend(DemoMesh.FRONTEND_IP, mesh.explicitProxy(), DemoMesh.REVIEWS_TARGET);
      cleanup.frontend(frontend);
      if (!frontend.warmUp(50, Duration.ofSeconds(30))) {
        out.println("capstan demo: warning: the warm-up requests did not all succeed within 30 s; sending the traffic anyway");
      }
      Frontend.Result result = frontend.run(traffic, connections, rate, p -> {
        out.printf(Locale.ROOT, "[%3ds] %6d requests  %4d/s  ok %6d  failed %4d  p99 %7.2f ms  %s%n", p.second(), p.requests(),
            p.intervalRequests(), p.ok(), p.failed(), p.intervalP99Millis(), split(p.versions()));
        out.flush();
      });
      summary = summarize(mesh, result);
      out.print(summary.render());
      boolean ok = summary.requests() > 0 && summary.failed() == 0;
      if (!ok) {
        cleanup.failed();
      }
      if (duration != null) {
        out.println(ok ? "capstan demo: PASS, stopping" : "capstan demo: FAIL (not every request succeeded; the log: " + log + "), stopping");
        out.flush();
        return ok ? 0 : 1;
      }
      out.printf("the mesh stays up: curl the endpoints above, or send a request as the frontend pod:%n"
          + "  curl --interface %s -x http://%s -p http://%s/%n"
          + "Ctrl-C stops it and removes %s%n", DemoMesh.FRONTEND_IP, hostPort(mesh.explicitProxy()), DemoMesh.REVIEWS_TARGET,
          keep ? "nothing (--keep)" : dir);
      out.flush();
      new CountDownLatch(1).await(); // until Ctrl-C: the hook cleans up, then the JVM exits
      return 0;
    } catch (Exception | Error e) {
      cleanup.failed();
      throw e;
    } finally {
      cleanup.stop();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs (or ran) the same cleanup
      }
    }
  }

  /** Stops the mesh and removes the run directory, once, from whichever thread gets there first. */
  private static final class Cleanup {
    private final Path dir;
    private final PrintWriter out;
    private boolean keep;
    private DemoMesh mesh;
    private Frontend frontend;
    private boolean done;

    Cleanup(Path dir, boolean keep, PrintWriter out) {
      this.dir = dir;
      this.keep = keep;
      this.out = out;
    }

    synchronized void frontend(Frontend client) {
      this.frontend = client;
    }

    synchronized void mesh(DemoMesh running) {
      this.mesh = running;
    }

    /** Something failed: the run directory (its log) stays for the reader. */
    synchronized void failed() {
      keep = true;
    }

    synchronized void stop() {
      if (done) {
        return;
      }
      done = true;
      if (frontend != null) {
        frontend.stop();
      }
      if (mesh != null) {
        mesh.close();
      }
      if (keep) {
        out.println("capstan demo: stopped; the run directory stays: " + dir);
      } else {
        DemoMesh.deleteTree(dir);
        out.println("capstan demo: stopped, removed " + dir);
      }
      out.flush();
    }
  }

  private static void printWhere(PrintWriter out, DemoMesh mesh) {
    List<Integer> c = mesh.controller().adminPorts();
    List<Integer> a = mesh.agentA().adminPorts();
    List<Integer> b = mesh.agentB().adminPorts();
    List<Integer> w = mesh.waypoint().adminPorts();
    out.printf("  %-22s hazelcast 127.0.0.1:%d  CA 127.0.0.1:%d%n", "controller", mesh.hazelcastPort(), mesh.controller().caPort());
    out.printf("  %-22s explicit proxy %s  HBONE %s:%d%n", "agent node-a", hostPort(mesh.explicitProxy()),
        DemoMesh.FRONTEND_IP, mesh.hbonePort());
    out.printf("  %-22s HBONE %s,%s:%d%n", "agent node-b", DemoMesh.REVIEWS_V1_IP, DemoMesh.REVIEWS_V2_IP, mesh.hbonePort());
    out.printf("  %-22s HBONE %s%n", "waypoint reviews", hostPort(mesh.waypoint().address()));
    mesh.apps().forEach((name, app) -> out.printf("  %-22s http://%s%n", name, hostPort(app.address())));
    out.printf("  %-22s %-38s %-38s %s%n", "", "metrics", "admin", "ready");
    doors(out, "controller", c);
    doors(out, "agent node-a", a);
    doors(out, "agent node-b", b);
    doors(out, "waypoint reviews", w);
  }

  private static void doors(PrintWriter out, String who, List<Integer> ports) {
    out.printf("  %-22s %-38s %-38s %s%n", who, "http://127.0.0.1:" + ports.get(1) + "/metrics",
        "http://127.0.0.1:" + ports.get(0) + "/config_dump", "http://127.0.0.1:" + ports.get(2) + "/healthz/ready");
  }

  private static String hostPort(java.net.InetSocketAddress a) {
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  private static String split(Map<String, Long> versions) {
    long all = versions.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder b = new StringBuilder();
    versions.forEach((v, n) -> b.append(String.format(Locale.ROOT, "%s %4.1f%%  ", v, all == 0 ? 0 : 100.0 * n / all)));
    return b.toString().strip();
  }

  private static Summary summarize(DemoMesh mesh, Frontend.Result r) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<Prometheus.Sample> a = Prometheus.parse(get(http, mesh.agentA().adminPorts().get(1)));
    List<Prometheus.Sample> b = Prometheus.parse(get(http, mesh.agentB().adminPorts().get(1)));
    List<Prometheus.Sample> w = Prometheus.parse(get(http, mesh.waypoint().adminPorts().get(1)));
    return new Summary(r.requests(), r.ok(), r.failed(), r.elapsed().toNanos() / 1e9,
        r.latencyMicros().getTotalCount() == 0 ? 0 : r.latencyMicros().getValueAtPercentile(50) / 1000.0,
        r.latencyMicros().getTotalCount() == 0 ? 0 : r.latencyMicros().getValueAtPercentile(99) / 1000.0,
        r.versions(), r.failures(), Summary.identities(b, w), Summary.bytesPerTenant(List.of(a, b)));
  }

  private static String get(HttpClient http, int port) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET http://127.0.0.1:" + port + "/metrics answered " + response.statusCode());
    }
    return response.body();
  }

  private static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  /** {@code 30s}, {@code 2m}, {@code 500ms}, {@code 1h}: a number and a unit. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      Matcher m = FORMAT.matcher(value.strip());
      if (!m.matches()) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration: a number and ms, s, m or h (e.g. 30s)");
      }
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms":
          return Duration.ofMillis(n);
        case "s":
          return Duration.ofSeconds(n);
        case "m":
          return Duration.ofMinutes(n);
        default:
          return Duration.ofHours(n);
      }
    }
  }
}

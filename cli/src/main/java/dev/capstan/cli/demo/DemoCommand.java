package dev.capstan.cli.demo;

import dev.capstan.cli.transparent.TransparentMesh;
import dev.capstan.netlab.TwoNodeNetwork;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code capstan demo}: starts a {@link DemoSetup} — {@link DemoMesh} in this JVM, or with {@code
 * --transparent} pods in network namespaces ({@link TransparentMesh}) — drives its frontend's
 * traffic with a progress line per second, prints the {@link Summary}, then either exits ({@code
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
        + "10 s of traffic, then everything stays up (metrics, admin) until Ctrl-C. With --transparent (root): the "
        + "same mesh on two nodes and four pods made of network namespaces, each part its own process, the pods' "
        + "traffic captured by capstan-redirect's nftables rules (no proxy settings in the apps); everything it "
        + "made is removed on exit.")
public final class DemoCommand implements Callable<Integer> {

  private static final Duration INTERACTIVE_TRAFFIC = Duration.ofSeconds(10);
  /** What a user without root reads (and nothing else happens). */
  static final String NEEDS_ROOT =
      "--transparent needs root (network namespaces, nftables): run with sudo, or drop --transparent";

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
      description = "a directory with the demo's manifests (mesh.yaml, waypoint.yaml, routes.yaml) instead of those in the jar; $${hbonePort} and $${appPort} in them are filled in. With --transparent only routes.yaml is read")
  Path manifests;

  @Option(names = "--transparent",
      description = "root only: pods in network namespaces on two nodes, their traffic captured by the kernel (nftables TPROXY) into the node agents; every part a process of its own")
  boolean transparent;

  @Option(names = "--keep", description = "keep the run directory (configs, manifests, CA root, logs) after exit")
  boolean keep;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** Whether this process may build network namespaces (tests replace it). */
  BooleanSupplier root = TwoNodeNetwork::isRoot;

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
      List<String> needed = transparent ? List.of(TransparentMesh.ROUTES) : DemoMesh.MANIFESTS;
      for (String name : needed) {
        if (!Files.isRegularFile(manifests.resolve(name))) {
          throw new CommandLine.ParameterException(spec.commandLine(),
              "--manifests " + manifests + ": " + name + " is missing (the demo reads " + String.join(", ", needed) + ")");
        }
      }
    }
    if (transparent && !root.getAsBoolean()) {
      spec.commandLine().getErr().println("capstan demo: " + NEEDS_ROOT);
      spec.commandLine().getErr().flush();
      return 1;
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dir = Files.createTempDirectory(transparent ? "capstan-demo-transparent-" : "capstan-demo-");
    Path log = dir.resolve("demo.log");
    Path logs = transparent ? dir : log; // with --transparent every process has its log there
    // Before the first logger exists: the CLI's logback.xml writes everything there.
    System.setProperty("capstan.log.file", log.toString());
    if (transparent) {
      out.printf("capstan demo: starting a mesh on two nodes and four pods made of network namespaces, each part a process (run directory %s)%n", dir);
    } else {
      out.printf("capstan demo: starting a clusterless mesh in this JVM (run directory %s)%n", dir);
    }
    out.flush();
    Cleanup cleanup = new Cleanup(dir, keep, out);
    // Ctrl-C (or SIGTERM) at any point: stop what runs and remove the run directory before the JVM exits.
    Thread hook = new Thread(cleanup::stop, "capstan-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      long began = System.nanoTime();
      DemoSetup mesh;
      try {
        mesh = transparent
            ? TransparentMesh.start(dir, Optional.ofNullable(manifests), cleanup::mesh, out)
            : DemoMesh.start(dir, Optional.ofNullable(manifests), true);
      } catch (Exception e) {
        if (cleanup.stopped()) {
          return 130; // Ctrl-C during the start: the hook stopped what ran, and said so
        }
        out.printf("capstan demo: could not start: %s%n  the logs: %s%n", e.getMessage(), logs);
        cleanup.failed();
        return 1;
      }
      cleanup.mesh(mesh);
      out.printf(Locale.ROOT, "mesh ready in %.1f s%n", (System.nanoTime() - began) / 1e9);
      mesh.describe(out);
      Duration traffic = duration != null ? duration : INTERACTIVE_TRAFFIC;
      out.printf("traffic: %s, %d connections, %d req/s, %s%n", mesh.path(), connections, rate, format(traffic));
      out.flush();
      Traffic frontend = mesh.traffic();
      cleanup.frontend(frontend);
      if (!frontend.warmUp(50, Duration.ofSeconds(30))) {
        out.println("capstan demo: warning: the warm-up requests did not all succeed within 30 s; sending the traffic anyway");
      }
      Frontend.Result result = frontend.run(traffic, connections, rate, p -> {
        out.printf(Locale.ROOT, "[%3ds] %6d requests  %4d/s  ok %6d  failed %4d  p99 %7.2f ms  %s%n", p.second(), p.requests(),
            p.intervalRequests(), p.ok(), p.failed(), p.intervalP99Millis(), split(p.versions()));
        out.flush();
      });
      summary = mesh.summarize(result);
      out.print(summary.render());
      boolean ok = summary.requests() > 0 && summary.failed() == 0;
      if (!ok) {
        cleanup.failed();
      }
      if (duration != null) {
        out.println(ok ? "capstan demo: PASS, stopping" : "capstan demo: FAIL (not every request succeeded; the logs: " + logs + "), stopping");
        out.flush();
        return ok ? 0 : 1;
      }
      out.print(mesh.tryIt());
      out.printf("Ctrl-C stops it and removes %s%n", keep ? "nothing (--keep)" : dir);
      out.flush();
      new CountDownLatch(1).await(); // until Ctrl-C: the hook cleans up, then the JVM exits
      return 0;
    } catch (Exception | Error e) {
      if (cleanup.stopped()) {
        return 130; // Ctrl-C: the hook stopped everything (what failed here is that stop)
      }
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
    private DemoSetup mesh;
    private Traffic frontend;
    private boolean done;

    Cleanup(Path dir, boolean keep, PrintWriter out) {
      this.dir = dir;
      this.keep = keep;
      this.out = out;
    }

    synchronized void frontend(Traffic client) {
      this.frontend = client;
    }

    /** The mesh to stop (also given while it starts, so Ctrl-C during the start stops what runs). */
    synchronized void mesh(DemoSetup running) {
      if (done) {
        running.close(); // stopped already: what starts now is stopped at once
        return;
      }
      this.mesh = running;
    }

    /** Whether the cleanup ran (Ctrl-C, or the end). */
    synchronized boolean stopped() {
      return done;
    }

    /** Something failed: the run directory (its logs) stays for the reader. */
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

  private static String split(Map<String, Long> versions) {
    long all = versions.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder b = new StringBuilder();
    versions.forEach((v, n) -> b.append(String.format(Locale.ROOT, "%s %4.1f%%  ", v, all == 0 ? 0 : 100.0 * n / all)));
    return b.toString().strip();
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

package dev.capstan.cli.stat;

import dev.capstan.cli.remote.Prometheus;
import dev.capstan.cli.output.OutputOptions;
import dev.capstan.cli.output.Printer;
import dev.capstan.cli.output.Table;
import dev.capstan.cli.remote.Endpoint;
import dev.capstan.cli.remote.Hints;
import dev.capstan.cli.remote.Http;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code capstan stat}: scrapes the agents' and waypoints' {@code /metrics}, waits the window,
 * scrapes again and prints per-workload and per-service rates, like {@code linkerd viz stat} (which
 * asks Prometheus; here the proxies are asked directly, so no Prometheus is needed).
 */
@Command(
    name = "stat",
    mixinStandardHelpOptions = true,
    description = {
        "Traffic per workload and per service over a window, from two scrapes of the proxies' Prometheus metrics:",
        "  workloads (node agents' istio_tcp_*): TCP connections opened per second, connections open, bytes per second"
            + " in and out (the agents count a connection's bytes when it closes)",
        "  services behind a waypoint (istio_requests_total, istio_request_duration_milliseconds): requests per second,"
            + " success rate (not 5xx), p50 and p99 latency, bytes per second in and out"},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:printed the rows", "2:a metrics endpoint could not be read, or a bad option"})
public final class StatCommand implements Callable<Integer> {

  /** Waits the window between the two scrapes (tests drive traffic here instead). */
  @FunctionalInterface
  public interface Pause {
    void pause(Duration window) throws InterruptedException;
  }

  @Option(names = "--agent", paramLabel = "<host:port|url>", split = ",", converter = Endpoint.Converter.class,
      description = "metrics endpoints of node agents (repeat or separate with commas; default 127.0.0.1:15020, this host's agent)")
  List<Endpoint> agents = new ArrayList<>();

  @Option(names = "--waypoint", paramLabel = "<host:port|url>", split = ",", converter = Endpoint.Converter.class,
      description = "metrics endpoints of waypoints (repeat or separate with commas)")
  List<Endpoint> waypoints = new ArrayList<>();

  @Option(names = {"-n", "--namespace"}, paramLabel = "<namespace>", description = "only rows of this namespace")
  String namespace;

  @Option(names = "--window", paramLabel = "<duration>", defaultValue = "10s", converter = WindowConverter.class,
      description = "time between the two scrapes (default ${DEFAULT-VALUE}; 1s to 1h, e.g. 30s, 2m)")
  Duration window;

  @Option(names = "--reporter", paramLabel = "<side>", defaultValue = "destination", converter = ReporterConverter.class,
      description = "which side of a TCP connection a workload row counts: destination (traffic into the workload, default) or source (out of it)")
  Stats.Reporter reporter;

  @Mixin
  OutputOptions output;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private final Pause pause;
  private final LongSupplier nanoTime;

  /** Sleeps through the window, measured with {@link System#nanoTime()}. */
  public StatCommand() {
    this(w -> Thread.sleep(w.toMillis()), System::nanoTime);
  }

  /** With another pause and clock (tests). */
  public StatCommand(Pause pause, LongSupplier nanoTime) {
    this.pause = pause;
    this.nanoTime = nanoTime;
  }

  /**
   * What {@code -o json|yaml} prints.
   *
   * @param windowSeconds the time measured between the two scrapes
   * @param targets the metrics endpoints scraped
   */
  public record Report(double windowSeconds, String reporter, List<String> targets, List<Row> rows) {}

  @Override
  public Integer call() throws InterruptedException {
    List<Endpoint> targets = new ArrayList<>(agents.isEmpty() && waypoints.isEmpty() ? List.of(Endpoint.parse("127.0.0.1:15020")) : agents);
    targets.addAll(waypoints);
    Http http = new Http(Duration.ofSeconds(5));
    List<Stats.Scrape> before = scrape(http, targets);
    long started = nanoTime.getAsLong();
    pause.pause(window);
    List<Stats.Scrape> after = scrape(http, targets);
    long ended = nanoTime.getAsLong();
    double seconds = (ended - started) / 1e9;
    List<Row> rows = Stats.rows(before, after, seconds, reporter, Optional.ofNullable(namespace));
    Report report = new Report(seconds, reporter.name().toLowerCase(Locale.ROOT), targets.stream().map(Endpoint::toString).toList(), rows);
    Printer.print(spec.commandLine().getOut(), output.format(), report, () -> render(report));
    return 0;
  }

  private static List<Stats.Scrape> scrape(Http http, List<Endpoint> targets) {
    List<Stats.Scrape> scrapes = new ArrayList<>();
    for (Endpoint e : targets) {
      String text = http.text(e.uri("/metrics"), "the metrics endpoint", Hints.METRICS);
      scrapes.add(new Stats.Scrape(e.toString(), Prometheus.parse(text)));
    }
    return scrapes;
  }

  static String render(Report r) {
    if (r.rows().isEmpty()) {
      return "no workloads or services in the metrics of " + String.join(", ", r.targets())
          + " (reporter " + r.reporter() + "): has traffic gone through them? try --reporter source, or another --namespace\n";
    }
    Table t = new Table("NAMESPACE", "NAME", "KIND", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P99", "CONN/S", "TCP_CONN",
        "BYTES_IN/S", "BYTES_OUT/S");
    for (Row row : r.rows()) {
      t.row(row.namespace(), row.name(), row.kind(),
          row.successPercent() == null ? null : String.format(Locale.ROOT, "%.2f%%", row.successPercent()),
          row.requestsPerSecond() == null ? null : String.format(Locale.ROOT, "%.1f", row.requestsPerSecond()),
          millis(row.p50Millis()), millis(row.p99Millis()),
          row.connectionsPerSecond() == null ? null : String.format(Locale.ROOT, "%.1f", row.connectionsPerSecond()),
          row.openConnections(), bytes(row.bytesInPerSecond()), bytes(row.bytesOutPerSecond()));
    }
    return t.render() + String.format(Locale.ROOT, "(over %.1f s; workloads as their %s reports them)%n", r.windowSeconds(),
        r.reporter());
  }

  private static String millis(Double ms) {
    if (ms == null) {
      return null;
    }
    return ms < 10 ? String.format(Locale.ROOT, "%.1fms", ms) : String.format(Locale.ROOT, "%.0fms", ms);
  }

  static String bytes(double perSecond) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = perSecond;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? String.format(Locale.ROOT, "%.0fB", v) : String.format(Locale.ROOT, "%.1f%s", v, units[u]);
  }

  /** {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}: a number and a unit, 1 s to 1 h. */
  static final class WindowConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      Matcher m = FORMAT.matcher(value.strip());
      if (!m.matches()) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration: a number and ms, s, m or h (e.g. 10s)");
      }
      long n = Long.parseLong(m.group(1));
      Duration d;
      switch (m.group(2)) {
        case "ms":
          d = Duration.ofMillis(n);
          break;
        case "s":
          d = Duration.ofSeconds(n);
          break;
        case "m":
          d = Duration.ofMinutes(n);
          break;
        default:
          d = Duration.ofHours(n);
          break;
      }
      if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
        throw new CommandLine.TypeConversionException("'" + value + "': the window must be 1s to 1h");
      }
      return d;
    }
  }

  /** {@code destination} or {@code source}. */
  static final class ReporterConverter implements CommandLine.ITypeConverter<Stats.Reporter> {
    @Override
    public Stats.Reporter convert(String value) {
      try {
        return Stats.Reporter.valueOf(value.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a reporter: use destination or source");
      }
    }
  }
}

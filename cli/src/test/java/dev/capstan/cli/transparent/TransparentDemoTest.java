package dev.capstan.cli.transparent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.cli.CapstanMain;
import dev.capstan.cli.demo.DemoCommand;
import dev.capstan.cli.demo.Summary;
import dev.capstan.netlab.Command;
import dev.capstan.netlab.TwoNodeNetwork;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code capstan demo --transparent --duration 8s} in this JVM, as root: right after a demo that
 * was killed outright (SIGKILL while it started, leaving its namespaces and processes behind), the
 * demo cleans that run up, builds its own network, and every request the frontend pod sends to the
 * service's address — captured by the kernel, not sent to a proxy — succeeds through the agents
 * and the waypoint by the 90/10 canary, with the expected SPIFFE identities; afterwards nothing of
 * either run is left: no namespace, no process, no nftables table outside them.
 */
class TransparentDemoTest {

  private static final Pattern RUN_ID = Pattern.compile("netns (" + TransparentMesh.PREFIX + "\\d+[a-z])-node1");

  @BeforeAll
  static void needsRoot() {
    if (!TwoNodeNetwork.isRoot()) {
      System.out.println("!!!!!!!!!! TransparentDemoTest SKIPPED (needs root): network namespaces, veths and nftables need uid 0 !!!!!!!!!!");
      Assumptions.assumeTrue(false, "TransparentDemoTest needs root");
    }
  }

  @Test
  void after_a_killed_run_a_timed_transparent_demo_cleans_it_up_passes_every_request_through_the_capture_and_leaves_nothing()
      throws Exception {
    String tablesBefore = Command.check("nft", "list", "tables").stdout();
    KilledRun killed = killADemoWhileItStarts();
    try {
      runTheDemoAfter(killed, tablesBefore);
    } finally {
      deleteTree(new File(killed.dir())); // nothing ran the killed run's own cleanup
    }
  }

  private static void runTheDemoAfter(KilledRun killed, String tablesBefore) {
    StringWriter text = new StringWriter();
    picocli.CommandLine cli = CapstanMain.commandLine();
    cli.setOut(new PrintWriter(text, true));
    cli.setErr(new PrintWriter(text, true));
    int rc = cli.execute("demo", "--transparent", "--duration", "8s");

    String out = text.toString();
    System.out.print(out); // the demo's terminal, for the build log
    assertThat(rc).as("exit code; output:%n%s", out).isZero();
    assertThat(out).as("the killed run's namespaces are removed first").contains("removing namespace " + killed.runId() + "-node1");
    assertThat(TwoNodeNetwork.netnsWithPrefix(killed.runId())).isEmpty();
    assertThat(processesMentioning(killed.dir())).as("processes of the killed run").isEmpty();

    Summary summary = ((DemoCommand) cli.getSubcommands().get("demo").getCommand()).summary();
    assertThat(summary).as(out).isNotNull();
    assertThat(summary.requests()).as(out).isPositive();
    assertThat(summary.successPercent()).as(out).isEqualTo(100.0);
    assertThat(summary.ok()).as("requests that succeeded (enough to judge a split)").isGreaterThanOrEqualTo(200);
    assertThat(summary.versions().keySet()).containsExactlyInAnyOrder("v1", "v2");
    // 90/10 by the waypoint's weighted choice: allow 4.5 standard deviations of a binomial (at least 3 points).
    double tolerance = Math.max(3.0, 4.5 * 100 * Math.sqrt(0.9 * 0.1 / summary.ok()));
    assertThat(summary.splitPercent("v1")).as(out).isCloseTo(90.0, Offset.offset(tolerance));
    assertThat(summary.splitPercent("v2")).as(out).isCloseTo(10.0, Offset.offset(tolerance));
    assertThat(summary.identities()).as(out).containsExactlyInAnyOrder(
        new Summary.SeenIdentity("reviews/reviews", "spiffe://cluster.local/ns/shop/sa/frontend", "waypoint (request's client)"),
        new Summary.SeenIdentity("reviews/reviews-v1-1", "spiffe://cluster.local/ns/reviews/sa/waypoint", "agent node2 (mTLS peer)"),
        new Summary.SeenIdentity("reviews/reviews-v2-1", "spiffe://cluster.local/ns/reviews/sa/waypoint", "agent node2 (mTLS peer)"));
    assertThat(summary.bytesPerTenant()).as(out).containsKeys("shop", "reviews");
    assertThat(summary.bytesPerTenant().values()).allMatch(bytes -> bytes > 0);
    assertThat(out).contains("[  1s]", "[  8s]", "[TPROXY] agent node1", "canary split", "capstan demo: PASS");

    Matcher run = RUN_ID.matcher(out);
    assertThat(run.find()).as(out).isTrue();
    Matcher dir = Pattern.compile("run directory (\\S+)\\)").matcher(out);
    assertThat(dir.find()).as(out).isTrue();
    assertThat(TwoNodeNetwork.netnsWithPrefix(run.group(1))).as("namespaces of the run (and their veths and nftables tables)").isEmpty();
    assertThat(processesMentioning(dir.group(1))).as("processes of the run").isEmpty();
    assertThat(Command.check("nft", "list", "tables").stdout()).as("nftables tables of this namespace").isEqualTo(tablesBefore);
    assertThat(Files.exists(Path.of(dir.group(1)))).as("the run directory is removed after a passing run").isFalse();
  }

  /** What a demo killed outright leaves: its namespaces' prefix and its run directory. */
  private record KilledRun(String runId, String dir) {}

  /**
   * Starts the demo as a process of its own and kills it (SIGKILL: no cleanup) once its network is
   * built and the controller runs in node1; returns what it left.
   */
  private static KilledRun killADemoWhileItStarts() throws Exception {
    Path output = Files.createTempFile("capstan-killed-demo-", ".out");
    Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", TransparentMesh.classpath(), CapstanMain.class.getName(), "demo", "--transparent", "--duration", "1s")
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      String runId = TransparentMesh.PREFIX + demo.pid() + "a";
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (!Command.run(Command.SHORT, List.of("ip", "netns", "pids", runId + "-node1")).stdout().strip().matches("(?s).*\\d.*")) {
        assertThat(demo.isAlive()).as("the demo to kill exited early: %s", Files.readString(output)).isTrue();
        assertThat(System.nanoTime()).as("the demo to kill built no node1 with a process in it: %s", Files.readString(output))
            .isLessThan(deadline);
        Thread.sleep(100);
      }
      Matcher dir = Pattern.compile("run directory (\\S+)\\)").matcher(Files.readString(output));
      assertThat(dir.find()).isTrue();
      return new KilledRun(runId, dir.group(1));
    } finally {
      demo.destroyForcibly();
      demo.waitFor(10, TimeUnit.SECONDS);
      Files.deleteIfExists(output);
    }
  }

  private static List<ProcessHandle> processesMentioning(String text) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(text)).orElse(false))
        .toList();
  }

  private static void deleteTree(File f) {
    File[] children = f.listFiles();
    if (children != null) {
      for (File c : children) {
        deleteTree(c);
      }
    }
    f.delete();
  }
}

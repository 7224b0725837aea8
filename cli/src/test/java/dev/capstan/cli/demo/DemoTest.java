package dev.capstan.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.cli.CapstanMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code capstan demo --duration 8s} in this JVM, as a script would run it: the whole mesh comes up
 * (controller, CA, two node agents, waypoint, reviews v1 and v2), the frontend's requests all
 * succeed through the waypoint, the canary split is the route's 90/10 within what chance allows,
 * the servers' side saw the expected SPIFFE identities, and the run leaves nothing behind.
 */
class DemoTest {

  @Test
  void a_timed_demo_routes_every_request_through_the_waypoint_by_the_canary_and_cleans_up() throws Exception {
    StringWriter text = new StringWriter();
    picocli.CommandLine cli = CapstanMain.commandLine();
    cli.setOut(new PrintWriter(text, true));
    cli.setErr(new PrintWriter(text, true));

    int rc = cli.execute("demo", "--duration", "8s");

    String out = text.toString();
    System.out.print(out); // the demo's terminal, for the build log
    assertThat(rc).as("exit code; output:%n%s", out).isZero();
    Summary summary = ((DemoCommand) cli.getSubcommands().get("demo").getCommand()).summary();
    assertThat(summary).as(out).isNotNull();
    assertThat(summary.failed()).as(out).isZero();
    assertThat(summary.ok()).as("requests that succeeded (enough to judge a split)").isGreaterThanOrEqualTo(200);
    assertThat(summary.versions().keySet()).containsExactlyInAnyOrder("v1", "v2");

    // 90/10 by the waypoint's weighted choice: allow 4.5 standard deviations of a binomial (at least 3 points).
    double tolerance = Math.max(3.0, 4.5 * 100 * Math.sqrt(0.9 * 0.1 / summary.ok()));
    assertThat(summary.splitPercent("v1")).as(out).isCloseTo(90.0, org.assertj.core.data.Offset.offset(tolerance));
    assertThat(summary.splitPercent("v2")).as(out).isCloseTo(10.0, org.assertj.core.data.Offset.offset(tolerance));

    assertThat(summary.identities()).as(out).containsExactlyInAnyOrder(
        new Summary.SeenIdentity("reviews/reviews", "spiffe://cluster.local/ns/shop/sa/frontend", "waypoint (request's client)"),
        new Summary.SeenIdentity("reviews/reviews-v1-1", "spiffe://cluster.local/ns/reviews/sa/waypoint", "agent node-b (mTLS peer)"),
        new Summary.SeenIdentity("reviews/reviews-v2-1", "spiffe://cluster.local/ns/reviews/sa/waypoint", "agent node-b (mTLS peer)"));
    assertThat(summary.bytesPerTenant()).as(out).containsKeys("shop", "reviews");
    assertThat(summary.bytesPerTenant().values()).allMatch(bytes -> bytes > 0);

    // What a reader of the terminal sees: the progress lines, the table, the verdict.
    assertThat(out).contains("[  1s]", "[  8s]", "canary split", "capstan demo: PASS");
    assertThat(out).containsPattern("agent node-a +http://127\\.0\\.0\\.1:\\d+/metrics");
    Matcher dir = Pattern.compile("run directory (\\S+)\\)").matcher(out);
    assertThat(dir.find()).as(out).isTrue();
    assertThat(Files.exists(Path.of(dir.group(1)))).as("the run directory is removed after a passing run").isFalse();
  }
}

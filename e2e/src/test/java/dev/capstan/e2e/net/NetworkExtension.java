package dev.capstan.e2e.net;

import dev.capstan.netlab.TwoNodeNetwork;
import dev.capstan.netlab.mesh.Launcher;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that starts a {@link TwoNodeNetwork} before a test class and closes it after
 * (every namespace and process gone), in the spirit of Armeria's {@code ServerExtension}:
 *
 * <pre>{@code
 * static final TwoNodeNetwork net = NetworkExtension.network()
 *     .pod(PodSpec.of("shop", "client", 1))
 *     .pod(PodSpec.of("shop", "server", 2));
 * @RegisterExtension
 * static final NetworkExtension extension = new NetworkExtension(net);
 * }</pre>
 *
 * <p>Without root, the class is skipped with a loud {@code SKIPPED (needs root)} line (CI greps it
 * and fails). Logs of a run go to {@code e2e/target/e2e-logs/<runId>-<TestClass>/}.
 */
public final class NetworkExtension implements BeforeAllCallback, AfterAllCallback {
  /** The prefix of every namespace the e2e tests create. */
  public static final String PREFIX = "cse2e";

  private final TwoNodeNetwork network;

  public NetworkExtension(TwoNodeNetwork network) {
    this.network = network;
  }

  /** A network named {@code cse2e<pid><letter>}, its tools ({@code dev.capstan.e2e.tools}) run from the test classes. */
  public static TwoNodeNetwork network() {
    return TwoNodeNetwork.create(TwoNodeNetwork.Settings.of(PREFIX, 'c',
        System.getProperty("capstan.e2e.testClasses", "target/test-classes")));
  }

  /** Capstan's programs from the modules' shaded jars (the e2e pom's surefire configuration names them). */
  public static Launcher launcher() {
    return Launcher.jars(Map.of(
        Launcher.Program.CONTROLLER, jar("capstan.e2e.controllerJar"),
        Launcher.Program.AGENT, jar("capstan.e2e.agentJar"),
        Launcher.Program.REDIRECT, jar("capstan.e2e.redirectJar"),
        Launcher.Program.WAYPOINT, jar("capstan.e2e.waypointJar")));
  }

  /** A jar named by a system property (set by the e2e pom's surefire configuration). */
  public static Path jar(String property) {
    String path = System.getProperty(property);
    if (path == null) {
      throw new IllegalStateException("system property " + property + " is not set: run through Maven (e2e/pom.xml sets it)");
    }
    return Path.of(path).toAbsolutePath().normalize();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    String testClass = context.getRequiredTestClass().getSimpleName();
    if (!TwoNodeNetwork.isRoot()) {
      System.out.println("!!!!!!!!!! " + testClass + " SKIPPED (needs root): network namespaces, veths and nftables need uid 0 !!!!!!!!!!");
      Assumptions.assumeTrue(false, testClass + " needs root");
    }
    network.start(Path.of(System.getProperty("capstan.e2e.logs", "target/e2e-logs")).toAbsolutePath()
        .resolve(network.runId() + "-" + testClass));
  }

  @Override
  public void afterAll(ExtensionContext context) {
    network.close();
  }
}

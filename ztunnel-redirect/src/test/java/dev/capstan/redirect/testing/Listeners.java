package dev.capstan.redirect.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A {@link TestListener} process in a namespace; {@link #close()} kills it (that process only). */
public final class Listeners implements AutoCloseable {

  private final Process process;

  private Listeners(Process process) {
    this.process = process;
  }

  /** Starts the listeners and returns once they are bound. */
  public static Listeners start(String netns, boolean transparent, String... endpoints) throws IOException {
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-cp", classpath,
        TestListener.class.getName(), transparent ? "transparent" : "plain"));
    argv.addAll(List.of(endpoints));
    Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"READY".equals(line)) {
      p.destroyForcibly();
      throw new IOException("test listener did not start (said '" + line + "')");
    }
    return new Listeners(p);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.capstan.netlab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A long-running process started inside a network namespace ({@code ip netns exec} execs the
 * command, so this is the process itself), stdout and stderr to one log file. Stopped by the
 * {@link TwoNodeNetwork} that started it, or earlier by {@link #stop()}. The waits throw {@link
 * IllegalStateException} with the end of the log when the process exits or the time is up.
 */
public final class NetnsProcess {
  private static final Duration POLL = Duration.ofMillis(100);

  private final String name;
  private final String netns;
  private final List<String> argv;
  private final Path log;
  private final Process process;
  private List<ProcessHandle> children = List.of();

  NetnsProcess(String name, String netns, List<String> argv, Path log) {
    this.name = name;
    this.netns = netns;
    this.argv = List.copyOf(argv);
    this.log = log;
    try {
      Files.createDirectories(log.getParent());
      this.process = new ProcessBuilder(Command.inNetns(netns, argv))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
    } catch (IOException e) {
      throw new Command.CommandException("cannot start " + name + " (" + String.join(" ", argv) + ") in " + netns + ": " + e.getMessage());
    }
  }

  public String name() {
    return name;
  }

  public String netns() {
    return netns;
  }

  public List<String> argv() {
    return argv;
  }

  public Path log() {
    return log;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The whole log so far. */
  public String output() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last {@code n} lines of the log. */
  public String tail(int n) {
    List<String> lines = output().lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }

  /** Waits until a line of the log matches {@code regex} (find, not full match); returns that line. */
  public String awaitLog(String regex, Duration timeout) {
    Pattern p = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String line : output().lines().toList()) {
        if (p.matcher(line).find()) {
          return line;
        }
      }
      checkProgress("a log line matching /" + regex + "/", timeout, deadline);
    }
  }

  /**
   * Waits until {@code url} answers 200 to {@code curl -sf} run in this process's namespace (so
   * 127.0.0.1 is the namespace's own loopback).
   */
  public void awaitHttp200(String url, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (Command.run(Duration.ofSeconds(10), Command.inNetns(netns,
          List.of("curl", "-sf", "-o", "/dev/null", "--max-time", "2", url))).ok()) {
        return;
      }
      checkProgress(url + " answering 200", timeout, deadline);
    }
  }

  private void checkProgress(String what, Duration timeout, long deadline) {
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " exited with " + process.exitValue() + " while waiting for " + what
          + "; last 50 lines of " + log + ":\n" + tail(50));
    }
    if (System.nanoTime() > deadline) {
      throw new IllegalStateException(name + " did not show " + what + " within " + timeout
          + "; last 50 lines of " + log + ":\n" + tail(50));
    }
    try {
      Thread.sleep(POLL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + what, e);
    }
  }

  /** Waits for the process to exit by itself; returns its exit code. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " still running after " + timeout + "; last 50 lines of " + log + ":\n" + tail(50));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    }
    return process.exitValue();
  }

  /** SIGTERM, then SIGKILL after {@code grace}; also to any process it started. Idempotent. */
  public void stop(Duration grace) {
    terminate();
    if (process.isAlive()) {
      try {
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      children.forEach(ProcessHandle::destroyForcibly);
    }
  }

  /** SIGTERM without waiting (what {@link #stop(Duration)} starts with): several processes stop side by side. */
  public synchronized void terminate() {
    if (process.isAlive()) {
      if (children.isEmpty()) {
        children = process.descendants().toList();
      }
      process.destroy();
    }
  }

  /** {@link #stop(Duration)} with 10 seconds of grace (agents drain in less). */
  public void stop() {
    stop(Duration.ofSeconds(10));
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + " in " + netns + ", log " + log + ")";
  }
}

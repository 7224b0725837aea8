package dev.capstan.netlab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a command to completion: an argv list (never a shell string), a deadline, both outputs kept.
 * {@link #check} throws with the command, its exit code and its stderr when it fails.
 */
public final class Command {
  /** Default deadline of short commands ({@code ip}, {@code nft}, {@code sysctl}). */
  public static final Duration SHORT = Duration.ofSeconds(20);

  /** Readers of command output: blocking reads stay off the common pool. */
  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "e2e-command-output");
    t.setDaemon(true);
    return t;
  });

  private Command() {}

  /** What a finished command left: exit code and both outputs. */
  public record Result(List<String> argv, int exit, String stdout, String stderr) {
    public boolean ok() {
      return exit == 0;
    }

    /** This result if the exit code is 0; else a {@link CommandException} naming the command and its stderr. */
    public Result orThrow() {
      if (exit != 0) {
        throw new CommandException(String.join(" ", argv) + " exited " + exit + ": " + stderr.strip()
            + (stdout.isBlank() ? "" : " (stdout: " + stdout.strip() + ")"));
      }
      return this;
    }
  }

  /** A command failed or did not finish in time. */
  public static final class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandException(String message) {
      super(message);
    }
  }

  /** Runs {@code argv} and throws unless it exits 0 within {@link #SHORT}. */
  public static Result check(String... argv) {
    return run(SHORT, List.of(argv)).orThrow();
  }

  /** Runs {@code argv} and throws unless it exits 0 within {@link #SHORT}. */
  public static Result check(List<String> argv) {
    return run(SHORT, argv).orThrow();
  }

  /** Runs {@code argv} with a deadline; a command still running then is killed and reported as an exception. */
  public static Result run(Duration timeout, List<String> argv) {
    Process p;
    try {
      p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    } catch (IOException e) {
      throw new CommandException("cannot run " + String.join(" ", argv) + ": " + e.getMessage());
    }
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()), READERS);
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()), READERS);
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        throw new CommandException(String.join(" ", argv) + " did not finish within " + timeout
            + "; stderr so far: " + err.getNow("").strip());
      }
      return new Result(List.copyOf(argv), p.exitValue(), out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CommandException("interrupted while running " + String.join(" ", argv));
    } catch (ExecutionException | TimeoutException e) {
      throw new CommandException("cannot read the output of " + String.join(" ", argv) + ": " + e);
    }
  }

  /** {@code ip netns exec <netns> argv...}. */
  public static List<String> inNetns(String netns, List<String> argv) {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", netns));
    all.addAll(argv);
    return all;
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

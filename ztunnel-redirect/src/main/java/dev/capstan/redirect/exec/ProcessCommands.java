package dev.capstan.redirect.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * {@link Commands} as child processes, each argv optionally prefixed (e.g. {@code ip netns exec
 * ns1}) and killed when it outlives the timeout.
 */
public final class ProcessCommands implements Commands {

  /** Output readers: one thread per stream, so a chatty stderr never blocks stdout (and vice versa). */
  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "capstan-exec-output");
    t.setDaemon(true);
    return t;
  });

  private final List<String> prefix;
  private final Duration timeout;

  public ProcessCommands(List<String> prefix, Duration timeout) {
    this.prefix = List.copyOf(prefix);
    this.timeout = timeout;
  }

  /** Commands in this process's own network namespace, 10 s each at most. */
  public static ProcessCommands local() {
    return new ProcessCommands(List.of(), Duration.ofSeconds(10));
  }

  /** Commands run in the named network namespace ({@code ip netns exec <ns> ...}). */
  public static ProcessCommands inNetns(String netns) {
    return new ProcessCommands(List.of("ip", "netns", "exec", netns), Duration.ofSeconds(10));
  }

  @Override
  public Result run(List<String> argv, String stdin) {
    List<String> full = new ArrayList<>(prefix);
    full.addAll(argv);
    Process p;
    try {
      p = new ProcessBuilder(full).start();
    } catch (IOException e) {
      throw new CommandException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    }
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()), READERS);
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()), READERS);
    try (OutputStream in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // The program exited without reading its input; its exit code and stderr tell why.
    }
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new CommandException(String.join(" ", argv) + " did not finish within " + timeout.toMillis() + " ms");
      }
      return new Result(List.copyOf(argv), p.exitValue(), out.get(timeout.toMillis(), TimeUnit.MILLISECONDS),
          err.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CommandException(String.join(" ", argv) + " interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new CommandException("reading the output of " + String.join(" ", argv) + " failed: " + e, e);
    }
  }

  private static String drain(InputStream s) {
    try (s) {
      return new String(s.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}

package dev.capstan.cli.transparent;

import dev.capstan.cli.demo.Frontend;
import dev.capstan.cli.demo.Traffic;
import dev.capstan.netlab.NetnsProcess;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The frontend pod's load, driven from the demo's JVM: the {@link PodMain} {@code frontend}
 * process in the pod's namespace gets its commands as files and answers with {@link
 * FrontendReport} lines in its log, which this follows. Every wait is bounded, and ends early when
 * the process exits.
 */
final class RemoteFrontend implements Traffic {
  private static final Duration POLL = Duration.ofMillis(50);
  /** Beyond the traffic's own duration: the clients' last answers (a read times out after 10 s). */
  private static final Duration RUN_SLACK = Duration.ofSeconds(30);

  private final NetnsProcess process;
  private final Path commands;
  private final LogLines lines;
  private int sent;
  private volatile boolean stopped;

  RemoteFrontend(NetnsProcess process, Path commands) {
    this.process = process;
    this.commands = commands;
    this.lines = new LogLines(process.log());
  }

  @Override
  public boolean warmUp(int requests, Duration within) {
    send(FrontendReport.warmUpCommand(requests, within));
    return next(within.plus(Duration.ofSeconds(10)), "the warm-up").getBoolean("warmUp", false);
  }

  @Override
  public Frontend.Result run(Duration duration, int connections, int rate, Consumer<Frontend.Progress> progress) {
    send(FrontendReport.runCommand(duration, connections, rate));
    long deadline = System.nanoTime() + duration.plus(RUN_SLACK).toNanos();
    while (true) {
      JsonObject report = next(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())), "the traffic's result");
      if (report.containsKey("progress")) {
        progress.accept(FrontendReport.toProgress(report.getJsonObject("progress")));
      } else if (report.containsKey("result")) {
        return FrontendReport.toResult(report.getJsonObject("result"));
      }
    }
  }

  @Override
  public void stop() {
    stopped = true;
  }

  private void send(JsonObject command) {
    sent++;
    Path file = commands.resolve("cmd-" + sent + ".json");
    try {
      Path tmp = commands.resolve(".cmd-" + sent + ".tmp");
      Files.writeString(tmp, command.encode());
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  /** The next report line, within {@code timeout}; throws when the process exits or the time is up. */
  private JsonObject next(Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String line = lines.next(); line != null; line = lines.next()) {
        Optional<JsonObject> report = FrontendReport.parse(line);
        if (report.isPresent()) {
          return report.get();
        }
      }
      if (stopped) {
        throw new IllegalStateException("the demo is stopping");
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("the frontend pod's process exited while waiting for " + what
            + "; the end of " + process.log() + ":\n" + process.tail(20));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no word from the frontend pod about " + what + " within " + timeout
            + "; the end of " + process.log() + ":\n" + process.tail(20));
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      }
    }
  }

  /** The complete lines appended to a file since the last call (a partial last line waits for its end). */
  static final class LogLines {
    private final Path file;
    private final List<String> ready = new ArrayList<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private long position;

    LogLines(Path file) {
      this.file = file;
    }

    /** The next complete line, or null when there is none yet. */
    String next() {
      if (ready.isEmpty()) {
        readMore();
      }
      return ready.isEmpty() ? null : ready.remove(0);
    }

    private void readMore() {
      if (!Files.exists(file)) {
        return;
      }
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        int n;
        while ((n = channel.read(buffer, position)) > 0) {
          position += n;
          for (int i = 0; i < n; i++) {
            byte b = buffer.get(i);
            if (b == '\n') {
              ready.add(partial.toString(StandardCharsets.UTF_8));
              partial.reset();
            } else {
              partial.write(b);
            }
          }
          buffer.clear();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + file, e);
      }
    }
  }
}

package dev.capstan.cli.transparent;

import dev.capstan.cli.demo.Frontend;
import dev.capstan.cli.demo.ReviewsApp;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The programs the transparent demo's pods run, each in its pod's network namespace as a JVM of
 * its own; apps that know nothing of the mesh:
 *
 * <ul>
 *   <li>{@code reviews <version> <pod> <ip> <port>}: a {@link ReviewsApp} on the pod's address;
 *       prints {@code listening ...} once it accepts, then serves until killed.
 *   <li>{@code frontend <service ip> <port> <host> <commands dir>}: a {@link Frontend#direct}
 *       load generator that connects to the service's address as any app would; runs the commands
 *       the demo drops into the directory ({@code cmd-1.json} warm-up, {@code cmd-2.json} the
 *       traffic) and prints {@link FrontendReport} lines; exits after the traffic, or after ten
 *       minutes without a command.
 * </ul>
 */
public final class PodMain {
  private static final Duration COMMAND_WAIT = Duration.ofMinutes(10);

  private PodMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    if (args.length == 5 && args[0].equals("reviews")) {
      ReviewsApp app = ReviewsApp.start(args[1], args[2], args[3], Integer.parseInt(args[4]));
      out.println("listening reviews " + args[1] + " " + args[2] + " on " + args[3] + ":" + app.address().getPort());
      out.flush();
      new CountDownLatch(1).await(); // serves until the demo stops the pod
    } else if (args.length == 5 && args[0].equals("frontend")) {
      frontend(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])), args[3], Path.of(args[4]), out);
    } else {
      System.err.println("usage: PodMain reviews <version> <pod> <ip> <port> | frontend <service ip> <port> <host> <commands dir>");
      System.exit(2);
    }
  }

  private static void frontend(InetSocketAddress service, String host, Path commands, PrintStream out)
      throws IOException, InterruptedException {
    Frontend frontend = Frontend.direct(service, host);
    out.println("waiting for commands in " + commands);
    out.flush();
    for (int n = 1; ; n++) {
      JsonObject command = await(commands.resolve("cmd-" + n + ".json"));
      String op = command.getString("op", "");
      if (op.equals("warmUp")) {
        boolean ok = frontend.warmUp(command.getInteger("requests"), Duration.ofMillis(command.getLong("withinMillis")));
        out.println(FrontendReport.warmedUp(ok));
        out.flush();
      } else if (op.equals("run")) {
        Frontend.Result result = frontend.run(Duration.ofMillis(command.getLong("durationMillis")),
            command.getInteger("connections"), command.getInteger("rate"), p -> {
              out.println(FrontendReport.progress(p));
              out.flush();
            });
        out.println(FrontendReport.result(result));
        out.flush();
        return;
      } else {
        throw new IllegalArgumentException("unknown command '" + op + "' in cmd-" + n + ".json");
      }
    }
  }

  /** The command in {@code file} once it exists (the demo writes it atomically). */
  private static JsonObject await(Path file) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + COMMAND_WAIT.toNanos();
    while (!Files.isRegularFile(file)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no " + file + " within " + COMMAND_WAIT + ": the demo is gone");
      }
      Thread.sleep(20);
    }
    try {
      return new JsonObject(Files.readString(file));
    } catch (DecodeException e) {
      throw new IllegalArgumentException(file + " is not a JSON object: " + e.getMessage(), e);
    }
  }
}

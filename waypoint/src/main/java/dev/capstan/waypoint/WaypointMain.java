package dev.capstan.waypoint;

import dev.capstan.core.config.ConfigException;
import dev.capstan.waypoint.config.WaypointConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code capstan-waypoint run --config waypoint.yaml}. */
@Command(name = "capstan-waypoint", mixinStandardHelpOptions = true, subcommands = {WaypointMain.Run.class},
    description = "Capstan's per-namespace L7 proxy.")
public final class WaypointMain {

  public static void main(String[] args) {
    System.exit(new CommandLine(new WaypointMain()).execute(args));
  }

  /** Runs a waypoint until SIGTERM. */
  @Command(name = "run", description = "Run the waypoint until SIGTERM.")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "waypoint YAML file")
    Path config;

    @Override
    public Integer call() throws Exception {
      WaypointConfig cfg;
      try {
        cfg = WaypointConfig.load(config);
      } catch (ConfigException e) {
        System.err.println("capstan-waypoint: " + e.getMessage());
        return 2;
      }
      Waypoint waypoint = Waypoint.start(cfg);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        waypoint.close();
        stopped.countDown();
      }, "capstan-shutdown"));
      stopped.await();
      return 0;
    }
  }
}

package dev.capstan.controller;

import dev.capstan.core.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code capstan-controller run --config controller.yaml}. */
@Command(name = "capstan-controller", mixinStandardHelpOptions = true, subcommands = ControllerMain.Run.class,
    description = "Capstan's controller: mesh config through Hazelcast, and the CA.")
public final class ControllerMain {

  public static void main(String[] args) {
    System.exit(new CommandLine(new ControllerMain()).execute(args));
  }

  /** Runs a replica until SIGTERM. */
  @Command(name = "run", description = "Run a controller replica until SIGTERM.")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "controller YAML file")
    Path config;

    @Override
    public Integer call() throws Exception {
      ControllerConfig cfg;
      try {
        Path file = config.toAbsolutePath();
        cfg = ControllerConfig.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), file.getParent());
      } catch (ConfigException e) {
        System.err.println("capstan-controller: " + e.getMessage());
        return 2;
      }
      Controller controller = Controller.start(cfg);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        controller.close();
        stopped.countDown();
      }, "capstan-shutdown"));
      stopped.await();
      return 0;
    }
  }
}

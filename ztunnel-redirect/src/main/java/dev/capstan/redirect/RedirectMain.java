package dev.capstan.redirect;

import dev.capstan.core.config.ConfigException;
import dev.capstan.redirect.config.RedirectConfig;
import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.exec.ProcessCommands;
import dev.capstan.redirect.mesh.FileWorkloads;
import dev.capstan.redirect.mesh.HazelcastWorkloads;
import dev.capstan.redirect.mesh.WorkloadSource;
import dev.capstan.redirect.probe.CaptureProbe;
import dev.capstan.redirect.reconcile.Reconciler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code capstan-redirect run|uninstall --config redirect.yaml} and {@code capstan-redirect check}. */
@Command(name = "capstan-redirect", mixinStandardHelpOptions = true,
    subcommands = {RedirectMain.Run.class, RedirectMain.Uninstall.class, RedirectMain.Check.class},
    description = "Captures enrolled pods' TCP traffic to the node agent with nftables TPROXY.")
public final class RedirectMain {

  private static final Logger LOG = LoggerFactory.getLogger(RedirectMain.class);

  public static void main(String[] args) {
    System.exit(new CommandLine(new RedirectMain()).execute(args));
  }

  static RedirectConfig load(Path config) throws IOException {
    Path file = config.toAbsolutePath();
    return RedirectConfig.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), file.getParent());
  }

  /** Reconciles until SIGTERM; the capture stays in place afterwards. */
  @Command(name = "run", description = "Capture enrolled pods' traffic until SIGTERM (rules stay in place after).")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "redirect YAML file")
    Path config;

    @Override
    public Integer call() throws Exception {
      RedirectConfig cfg;
      try {
        cfg = load(config);
      } catch (ConfigException e) {
        System.err.println("capstan-redirect: " + e.getMessage());
        return 2;
      }
      Commands commands = ProcessCommands.local();
      CaptureProbe.Report probe = new CaptureProbe(commands).run();
      if (!probe.ok()) {
        System.err.println("capstan-redirect: this node cannot capture traffic:\n" + probe.failures());
        return 3;
      }
      WorkloadSource source;
      long filePoll;
      if (cfg.mesh() instanceof RedirectConfig.MeshFile file) {
        try {
          source = new FileWorkloads(file.path());
        } catch (IOException | ConfigException e) {
          System.err.println("capstan-redirect: mesh file: " + e.getMessage());
          return 2;
        }
        filePoll = 1_000;
      } else {
        source = new HazelcastWorkloads((RedirectConfig.Controller) cfg.mesh(), "capstan-redirect-" + cfg.node());
        filePoll = 0;
      }
      LOG.info("capturing for node {} into table ip {}, agent at {} (outbound {}, inbound {}, hbone {})", cfg.node(),
          cfg.table(), cfg.capture().address().getHostAddress(), cfg.capture().outboundPort(),
          cfg.capture().inboundPort(), cfg.capture().hbonePort());
      RedirectDaemon daemon = new RedirectDaemon(cfg, source, new Reconciler(cfg, commands), filePoll);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        daemon.close();
        LOG.info("stopped; the capture stays in place (capstan-redirect uninstall removes it)");
        stopped.countDown();
      }, "capstan-shutdown"));
      stopped.await();
      return 0;
    }
  }

  /** Removes the table, the ip rule and the route. */
  @Command(name = "uninstall", description = "Remove the nftables table, ip rule and route (fine if absent).")
  static final class Uninstall implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "redirect YAML file")
    Path config;

    @Override
    public Integer call() throws Exception {
      RedirectConfig cfg;
      try {
        cfg = load(config);
      } catch (ConfigException e) {
        System.err.println("capstan-redirect: " + e.getMessage());
        return 2;
      }
      new Reconciler(cfg, ProcessCommands.local()).uninstall();
      System.out.println("removed table ip " + cfg.table() + ", fwmark rule and route table " + cfg.capture().routeTable());
      return 0;
    }
  }

  /** The probe: one line per check. */
  @Command(name = "check", description = "Check that this node can capture traffic (nft, tproxy, policy routing).")
  static final class Check implements Callable<Integer> {
    @Override
    public Integer call() {
      CaptureProbe.Report report = new CaptureProbe(ProcessCommands.local()).run();
      report.checks().forEach(c -> System.out.println(c.line()));
      return report.ok() ? 0 : 1;
    }
  }
}

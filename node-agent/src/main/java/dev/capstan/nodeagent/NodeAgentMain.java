package dev.capstan.nodeagent;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Workload;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.core.mesh.MeshFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code capstan-node-agent run --config agent.yaml} and {@code capstan-node-agent certs}. */
@Command(name = "capstan-node-agent", mixinStandardHelpOptions = true,
    subcommands = {NodeAgentMain.Run.class, NodeAgentMain.Certs.class},
    description = "Capstan's per-node L4 proxy.")
public final class NodeAgentMain {

  public static void main(String[] args) {
    System.exit(new CommandLine(new NodeAgentMain()).execute(args));
  }

  /** Runs an agent until SIGTERM, then drains. */
  @Command(name = "run", description = "Run the node agent until SIGTERM, then drain.")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "agent YAML file")
    Path config;

    @Override
    public Integer call() throws Exception {
      AgentConfig cfg;
      try {
        Path file = config.toAbsolutePath();
        cfg = AgentConfig.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), file.getParent());
      } catch (ConfigException e) {
        System.err.println("capstan-node-agent: " + e.getMessage());
        return 2;
      }
      NodeAgent agent = NodeAgent.start(cfg);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        agent.drain().join();
        agent.close();
        stopped.countDown();
      }, "capstan-shutdown"));
      stopped.await();
      return 0;
    }
  }

  /** Writes a root and a certificate per identity of a mesh file (clusterless meshes, tests, benchmarks). */
  @Command(name = "certs", description = "Create a root CA (or reuse the one in --out) and a leaf for every identity in a mesh file.")
  static final class Certs implements Callable<Integer> {
    @Option(names = "--mesh", required = true, description = "mesh YAML file")
    Path mesh;

    @Option(names = "--out", required = true, description = "certificate directory")
    Path out;

    @Option(names = "--trust-domain", defaultValue = "cluster.local")
    String trustDomain;

    @Option(names = "--validity-hours", defaultValue = "24", description = "leaf lifetime in hours (default ${DEFAULT-VALUE})")
    long validityHours;

    @Override
    public Integer call() throws Exception {
      MeshSnapshot snapshot = MeshFile.parse(Files.readString(mesh, StandardCharsets.UTF_8), mesh.toString());
      Files.createDirectories(out);
      Path rootCert = out.resolve("root-cert.pem");
      Path rootKey = out.resolve("root-key.pem");
      Instant now = Instant.now();
      Issuer issuer;
      if (Files.exists(rootCert) && Files.exists(rootKey)) {
        issuer = new Issuer(Pem.privateKey(Files.readString(rootKey)), Pem.certificates(Files.readString(rootCert)).get(0));
      } else {
        issuer = Issuer.selfSignedRoot(trustDomain, now, Duration.ofDays(3650));
        Files.writeString(rootCert, Pem.encode(issuer.certificate()));
        writePrivate(rootKey, Pem.encodeKey(issuer.key()));
      }
      Set<SpiffeId> ids = new LinkedHashSet<>();
      for (Workload w : snapshot.workloads()) {
        ids.add(SpiffeId.of(trustDomain, w.namespace(), w.serviceAccount()));
      }
      for (SpiffeId id : ids) {
        CertifiedKey key = issuer.issue(id, now, Duration.ofHours(validityHours));
        Path dir = out.resolve(id.namespace()).resolve(id.serviceAccount());
        Files.createDirectories(dir);
        writePrivate(dir.resolve("key.pem"), Pem.encodeKey(key.key()));
        Files.writeString(dir.resolve("cert-chain.pem"), Pem.encode(key.chain()));
        System.out.println(id + " -> " + dir);
      }
      return 0;
    }

    /** Writes a private key readable by its owner only. */
    private static void writePrivate(Path file, String pem) throws java.io.IOException {
      Files.deleteIfExists(file);
      Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, pem);
    }
  }
}

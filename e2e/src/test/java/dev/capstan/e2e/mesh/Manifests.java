package dev.capstan.e2e.mesh;

import dev.capstan.e2e.net.Pod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The clusterless controller's manifests for the test network, in the shape of
 * {@code examples/clusterless/manifests/mesh.yaml}: a Namespace per pod namespace (enrolled ones
 * labelled {@code capstan.dev/mesh: enabled}), a Pod per test pod (spec.nodeName,
 * serviceAccountName, status.podIP, phase Running; opted-out pods labelled
 * {@code capstan.dev/mesh: disabled}), and the Services.
 */
final class Manifests {
  static final String FILE = "mesh.yaml";

  private Manifests() {}

  static String render(Collection<Pod> pods, Set<String> enrolled, Set<String> optedOut, Collection<MeshService> services) {
    StringBuilder y = new StringBuilder("# Written by the e2e fixture (dev.capstan.e2e.mesh.CapstanMesh); rewritten during tests.\n");
    Set<String> namespaces = new TreeSet<>(enrolled);
    pods.forEach(p -> namespaces.add(p.namespace()));
    services.forEach(s -> namespaces.add(s.namespace()));
    for (String ns : namespaces) {
      y.append("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ").append(ns).append('\n');
      if (enrolled.contains(ns)) {
        y.append("  labels:\n    capstan.dev/mesh: enabled\n");
      }
    }
    for (Pod p : pods) {
      Map<String, String> labels = new TreeMap<>(p.spec().labels());
      if (optedOut.contains(p.name())) {
        labels.put("capstan.dev/mesh", "disabled");
      }
      y.append("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ").append(p.name())
          .append("\n  namespace: ").append(p.namespace()).append('\n');
      labels(y, "  labels:\n", "    ", labels);
      y.append("spec:\n  nodeName: ").append(p.node().name())
          .append("\n  serviceAccountName: ").append(p.spec().serviceAccount())
          .append("\n  containers:\n    - name: app\n      image: capstan-e2e/tools:1\n")
          .append("status:\n  phase: Running\n  podIP: ").append(p.ip()).append('\n');
    }
    for (MeshService s : services) {
      y.append("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ").append(s.name())
          .append("\n  namespace: ").append(s.namespace()).append("\nspec:\n  clusterIP: ").append(s.clusterIp()).append('\n');
      labels(y, "  selector:\n", "    ", s.selector());
      y.append("  ports:\n");
      for (MeshService.Port port : s.ports()) {
        y.append("    - name: ").append(port.name()).append("\n      port: ").append(port.port())
            .append("\n      targetPort: ").append(port.targetPort()).append('\n');
      }
    }
    return y.toString();
  }

  /** Replaces {@code dir/mesh.yaml} atomically (the controller skips hidden files, so the temporary one is hidden). */
  static void write(Path dir, String yaml) {
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve("." + FILE + ".tmp");
      Files.writeString(tmp, yaml);
      Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void labels(StringBuilder y, String header, String indent, Map<String, String> labels) {
    if (labels.isEmpty()) {
      return;
    }
    y.append(header);
    new TreeMap<>(labels).forEach((k, v) -> y.append(indent).append(k).append(": \"").append(v).append("\"\n"));
  }
}

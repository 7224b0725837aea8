package dev.capstan.netlab.mesh;

import dev.capstan.netlab.Pod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
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

  static String render(Collection<Pod> pods, Set<String> enrolled, Set<String> optedOut, Map<String, String> nodeNames,
      Collection<MeshService> services) {
    StringBuilder y = new StringBuilder("# Written by dev.capstan.netlab.mesh.CapstanMesh; rewritten on every publish.\n");
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
      y.append("spec:\n  nodeName: ").append(nodeNames.getOrDefault(p.name(), p.node().name()))
          .append("\n  serviceAccountName: ").append(p.spec().serviceAccount())
          .append("\n  containers:\n    - name: app\n      image: capstan-e2e/tools:1\n")
          .append("status:\n  phase: Running\n  podIP: ").append(p.ip()).append('\n');
    }
    // A waypoint a Service's label names is declared by a Waypoint resource (the controller binds
    // the label only to a declared Waypoint whose own Service exists).
    Set<String> waypoints = new TreeSet<>();
    for (MeshService s : services) {
      String name = s.labels().get(MeshService.USE_WAYPOINT);
      if (name != null && !name.equals("none")) {
        waypoints.add(s.namespace() + "/" + name);
      }
    }
    for (String w : waypoints) {
      String[] nn = w.split("/", 2);
      y.append("---\napiVersion: capstan.dev/v1alpha1\nkind: Waypoint\nmetadata:\n  name: ").append(nn[1])
          .append("\n  namespace: ").append(nn[0]).append("\nspec:\n  trafficType: service\n");
    }
    for (MeshService s : services) {
      y.append("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ").append(s.name())
          .append("\n  namespace: ").append(s.namespace()).append('\n');
      labels(y, "  labels:\n", "    ", s.labels());
      y.append("spec:\n  clusterIP: ").append(s.clusterIp()).append('\n');
      labels(y, "  selector:\n", "    ", s.selector());
      y.append("  ports:\n");
      for (MeshService.Port port : s.ports()) {
        y.append("    - name: ").append(port.name()).append("\n      port: ").append(port.port())
            .append("\n      targetPort: ").append(port.targetPort()).append('\n');
      }
    }
    return y.toString();
  }

  /**
   * The same mesh in the node agents' mesh-file format ({@code core.mesh.MeshFile}), for a
   * waypoint, which reads its view from a file (it does not read the controller yet): workloads =
   * the pods of enrolled namespaces that did not opt out (uid = namespace/name), services of
   * enrolled namespaces with their selected pods as endpoints and {@code namespace/<label>} as
   * waypoint when the service has {@link MeshService#USE_WAYPOINT} (unless it is that waypoint).
   */
  static String renderMeshFile(Collection<Pod> pods, Set<String> enrolled, Set<String> optedOut, Map<String, String> nodeNames,
      Collection<MeshService> services) {
    StringBuilder y = new StringBuilder("# Written by dev.capstan.netlab.mesh.CapstanMesh: the waypoint's mesh view.\n");
    y.append("version: \"e2e\"\nworkloads:\n");
    List<Pod> members = pods.stream()
        .filter(p -> enrolled.contains(p.namespace()) && !optedOut.contains(p.name()))
        .toList();
    for (Pod p : members) {
      y.append("  - {uid: \"").append(uid(p)).append("\", name: ").append(p.name())
          .append(", namespace: ").append(p.namespace()).append(", serviceAccount: ").append(p.spec().serviceAccount())
          .append(", ips: [\"").append(p.ip()).append("\"], node: ").append(nodeNames.getOrDefault(p.name(), p.node().name()))
          .append(", labels: {");
      y.append(String.join(", ", new TreeMap<>(p.spec().labels()).entrySet().stream()
          .map(e -> e.getKey() + ": \"" + e.getValue() + "\"").toList()));
      y.append("}}\n");
    }
    y.append("services:\n");
    for (MeshService s : services) {
      if (!enrolled.contains(s.namespace())) {
        continue;
      }
      y.append("  - namespace: ").append(s.namespace()).append("\n    name: ").append(s.name())
          .append("\n    vips: [\"").append(s.clusterIp()).append("\"]\n    ports:\n");
      for (MeshService.Port port : s.ports()) {
        y.append("      - {name: ").append(port.name()).append(", port: ").append(port.port())
            .append(", targetPort: ").append(port.targetPort()).append("}\n");
      }
      y.append("    endpoints:\n");
      List<Pod> selected = members.stream().filter(p -> p.namespace().equals(s.namespace()) && s.selects(p.spec().labels())).toList();
      if (selected.isEmpty()) {
        y.setLength(y.length() - 1);
        y.append(" []\n");
      }
      selected.forEach(p -> y.append("      - {workload: \"").append(uid(p)).append("\"}\n"));
      String waypoint = s.labels().get(MeshService.USE_WAYPOINT);
      if (waypoint != null && !waypoint.equals("none") && !waypoint.equals(s.name())) {
        y.append("    waypoint: ").append(s.namespace()).append('/').append(waypoint).append('\n');
      }
    }
    return y.toString();
  }

  private static String uid(Pod p) {
    return p.namespace() + "/" + p.name();
  }

  /** Replaces {@code dir/mesh.yaml} atomically (the controller skips hidden files, so the temporary one is hidden). */
  static void write(Path dir, String yaml) {
    writeAtomically(dir.resolve(FILE), yaml);
  }

  /** Replaces {@code file} atomically through a hidden temporary file beside it (readers skip hidden files and see old or new). */
  static void writeAtomically(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
      Files.writeString(tmp, text);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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

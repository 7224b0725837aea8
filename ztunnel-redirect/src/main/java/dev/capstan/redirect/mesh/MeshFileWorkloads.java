package dev.capstan.redirect.mesh;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.model.Workload;
import java.util.List;

/**
 * Reads the {@code workloads} of a mesh file, the node agent's format ({@code version},
 * {@code workloads}, {@code services}, {@code policies}). Services and policies do not matter
 * for capture and are not validated here; the agent validates them.
 */
public final class MeshFileWorkloads {

  private MeshFileWorkloads() {}

  public static List<Workload> parse(String text, String source) {
    Fields f = Fields.parse(text, source).only("version", "workloads", "services", "policies");
    return f.list("workloads", (w, i) -> {
      w.only("uid", "name", "namespace", "serviceAccount", "ips", "node", "labels", "waypoint");
      List<String> ips = w.strings("ips");
      for (String ip : ips) {
        if (Hbone.literalIp(ip).isEmpty()) {
          throw new ConfigException(w.path() + ".ips: '" + ip + "' is not a literal IP address");
        }
      }
      return new Workload(w.string("uid"), w.string("name"), w.string("namespace"), w.string("serviceAccount", "default"),
          ips, w.string("node"), w.stringMap("labels"), w.optionalString("waypoint").orElse(null));
    });
  }
}

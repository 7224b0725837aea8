package dev.capstan.controller.source;

import dev.capstan.core.model.MeshSnapshot;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the mesh configuration comes from: the Kubernetes API ({@link KubernetesSource}) or a
 * directory of manifests ({@link ManifestSource}).
 */
public interface MeshSource extends AutoCloseable {

  /**
   * Starts watching. {@code onChange} receives the first full snapshot once the source has read
   * everything, then every snapshot whose content (version hash) differs from the previous one. It
   * is called from one background thread of the source, never concurrently with itself; an
   * exception it throws is logged and does not stop the source. Call once.
   */
  void start(Consumer<MeshSnapshot> onChange);

  /** The last snapshot passed to {@code onChange}, or empty before the first one. */
  Optional<MeshSnapshot> current();

  /**
   * The pod {@code namespace/name} as the source knows it now, for the CA's node authorization:
   * present only while the pod exists, is scheduled to a node and has not terminated (phase
   * Succeeded or Failed). Enrollment does not matter. This default knows no pod.
   */
  default Optional<PodInfo> pod(String namespace, String name) {
    return Optional.empty();
  }

  /** Stops watching and releases the source's threads; {@code onChange} is not called afterwards. */
  @Override
  void close();
}

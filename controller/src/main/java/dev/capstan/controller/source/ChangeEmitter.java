package dev.capstan.controller.source;

import dev.capstan.core.model.MeshSnapshot;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes a snapshot to a source's listener only when its version differs from the last one, and
 * remembers the last one. Called from the source's single background thread.
 */
final class ChangeEmitter {

  private static final Logger LOG = LoggerFactory.getLogger(ChangeEmitter.class);

  private final String source;
  private final Consumer<MeshSnapshot> listener;
  private volatile MeshSnapshot current;

  ChangeEmitter(String source, Consumer<MeshSnapshot> listener) {
    this.source = Objects.requireNonNull(source, "source");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** Emits the snapshot if its content changed; returns whether it did. */
  boolean offer(MeshSnapshot snapshot) {
    MeshSnapshot previous = current;
    if (previous != null && previous.version().equals(snapshot.version())) {
      return false;
    }
    current = snapshot;
    LOG.info("{}: mesh version {} ({} workloads, {} services, {} policies)", source, snapshot.version(),
        snapshot.workloads().size(), snapshot.services().size(), snapshot.policies().size());
    try {
      listener.accept(snapshot);
    } catch (RuntimeException e) {
      LOG.error("{}: the listener failed on mesh version {}; the source goes on", source, snapshot.version(), e);
    }
    return true;
  }

  Optional<MeshSnapshot> current() {
    return Optional.ofNullable(current);
  }
}

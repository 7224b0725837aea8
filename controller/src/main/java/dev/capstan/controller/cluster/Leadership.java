package dev.capstan.controller.cluster;

import java.util.function.Consumer;

/** Which controller replica writes the mesh maps; the others are warm standbys. */
public interface Leadership extends AutoCloseable {

  /** Whether this replica leads now. */
  boolean isLeader();

  /** Called with {@code true} on gaining and {@code false} on losing leadership, serially. */
  void onChange(Consumer<Boolean> listener);

  @Override
  void close();
}

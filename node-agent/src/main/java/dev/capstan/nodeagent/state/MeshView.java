package dev.capstan.nodeagent.state;

import java.util.function.Consumer;

/**
 * Where the node agent reads the mesh. The data path calls {@link #current()} once per connection
 * and works on that immutable index; sources (a file, or the controller through Hazelcast) replace it whole.
 */
public interface MeshView extends AutoCloseable {

  /** The index in force. */
  MeshIndex current();

  /** Calls {@code listener} with each new index, off the data-plane threads. */
  void onChange(Consumer<MeshIndex> listener);

  /** Whether the view holds a complete mesh (a source that loads asynchronously is not ready at first). */
  default boolean ready() {
    return true;
  }

  @Override
  default void close() {}
}

package dev.capstan.nodeagent.state;

import java.util.function.Consumer;

/**
 * Where the node agent reads the mesh. The data path calls {@link #current()} once per connection
 * and works on that immutable index; sources (a file now, Hazelcast later) replace it whole.
 */
public interface MeshView {

  /** The index in force. */
  MeshIndex current();

  /** Calls {@code listener} with each new index, off the data-plane threads. */
  void onChange(Consumer<MeshIndex> listener);
}

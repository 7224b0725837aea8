package dev.capstan.nodeagent.state;

import dev.capstan.core.mesh.MeshFile;
import dev.capstan.core.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh read from a file and re-read when it changes. A change that does not parse is logged
 * with its reason and counted; the last good index stays in force.
 */
public final class FileMeshView implements MeshView {

  private static final Logger LOG = LoggerFactory.getLogger(FileMeshView.class);

  private final Path file;
  private final List<Consumer<MeshIndex>> listeners = new CopyOnWriteArrayList<>();
  private final Runnable onReloadError;
  private volatile MeshIndex current;
  private FileTime loadedModified;
  private long loadedSize;

  /** Loads the file now; a file that cannot be read or parsed fails start-up. */
  public FileMeshView(Path file, Runnable onReloadError) throws IOException {
    this.file = file;
    this.onReloadError = onReloadError;
    this.current = load();
  }

  @Override
  public MeshIndex current() {
    return current;
  }

  @Override
  public void onChange(Consumer<MeshIndex> listener) {
    listeners.add(listener);
  }

  /** Re-reads the file if it changed; call it from a background thread. */
  public synchronized void poll() {
    try {
      FileTime modified = Files.getLastModifiedTime(file);
      long size = Files.size(file);
      if (modified.equals(loadedModified) && size == loadedSize) {
        return;
      }
      MeshIndex next = load();
      current = next;
      LOG.info("mesh config {} loaded from {}: {} workloads, {} services, {} policies", next.version(), file,
          next.snapshot().workloads().size(), next.snapshot().services().size(), next.snapshot().policies().size());
      listeners.forEach(l -> l.accept(next));
    } catch (IOException | ConfigException e) {
      LOG.error("mesh config {} rejected, keeping version {}: {}", file, current.version(), e.getMessage());
      onReloadError.run();
      try {
        loadedModified = Files.getLastModifiedTime(file);
        loadedSize = Files.size(file);
      } catch (IOException ignored) {
        // The file is gone; the next poll tries again.
      }
    }
  }

  private MeshIndex load() throws IOException {
    FileTime modified = Files.getLastModifiedTime(file);
    long size = Files.size(file);
    String text = Files.readString(file, StandardCharsets.UTF_8);
    MeshIndex index = new MeshIndex(MeshFile.parse(text, file.toString()));
    loadedModified = modified;
    loadedSize = size;
    return index;
  }
}

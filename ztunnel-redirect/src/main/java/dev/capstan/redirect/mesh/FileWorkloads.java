package dev.capstan.redirect.mesh;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.model.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workloads of a mesh file, re-read by {@link #refresh()} when its content changed. A file
 * that does not parse is logged and the last good workloads stay in force.
 */
public final class FileWorkloads implements WorkloadSource {

  private static final Logger LOG = LoggerFactory.getLogger(FileWorkloads.class);

  private final Path file;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private volatile Optional<List<Workload>> current = Optional.empty();
  private String loadedText;

  /** Loads the file now; a file that cannot be read or parsed fails start-up. */
  public FileWorkloads(Path file) throws IOException {
    this.file = file;
    String text = Files.readString(file, StandardCharsets.UTF_8);
    current = Optional.of(MeshFileWorkloads.parse(text, file.toString()));
    loadedText = text;
  }

  @Override
  public Optional<List<Workload>> workloads() {
    return current;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public synchronized void refresh() {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      LOG.error("mesh file {} unreadable, keeping the last workloads: {}", file, e.toString());
      return;
    }
    if (text.equals(loadedText)) {
      return;
    }
    loadedText = text;
    try {
      current = Optional.of(MeshFileWorkloads.parse(text, file.toString()));
    } catch (ConfigException e) {
      LOG.error("mesh file {} rejected, keeping the last workloads: {}", file, e.getMessage());
      return;
    }
    LOG.info("mesh file {} changed: {} workloads", file, current.get().size());
    listeners.forEach(Runnable::run);
  }

  @Override
  public void close() {
    // Nothing held open.
  }
}

package dev.capstan.controller.source;

import dev.capstan.core.model.MeshSnapshot;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clusterless source: a directory of manifests ({@link ManifestDirectory}), polled for changes.
 *
 * <p>Every {@code pollInterval} a daemon thread compares each manifest file's real path (so a
 * Kubernetes ConfigMap volume's symlink swap counts), size and modification time with the last
 * look; when anything differs it re-reads the whole directory. A valid directory becomes the new
 * snapshot (emitted if its content changed); an invalid one is logged, file and line, and the last
 * valid snapshot stays in force. Polling rather than {@code WatchService}: it works the same on
 * overlay filesystems, bind mounts and ConfigMap volumes.
 */
public final class ManifestSource implements MeshSource {

  private static final Logger LOG = LoggerFactory.getLogger(ManifestSource.class);

  private final Path dir;
  private final Duration pollInterval;
  private final ScheduledExecutorService worker;
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile ChangeEmitter emitter;
  private volatile Resources resources = Resources.empty();
  private volatile List<ManifestDirectory.Problem> problems = List.of();
  private List<String> lastFingerprint;

  /**
   * @param dir the manifest directory
   * @param pollInterval how often to look for changes (at least 10 ms)
   */
  public ManifestSource(Path dir, Duration pollInterval) {
    this.dir = Objects.requireNonNull(dir, "dir");
    this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.toMillis() < 10) {
      throw new IllegalArgumentException("pollInterval must be at least 10 ms, got " + pollInterval);
    }
    this.worker = DaemonThread.single("capstan-source-manifests");
  }

  @Override
  public void start(Consumer<MeshSnapshot> onChange) {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("already started");
    }
    emitter = new ChangeEmitter("manifests " + dir, onChange);
    worker.scheduleWithFixedDelay(this::poll, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public Optional<MeshSnapshot> current() {
    ChangeEmitter e = emitter;
    return e == null ? Optional.empty() : e.current();
  }

  @Override
  public Optional<PodInfo> pod(String namespace, String name) {
    for (Pod pod : resources.pods()) {
      if (namespace.equals(pod.getMetadata().getNamespace()) && name.equals(pod.getMetadata().getName())) {
        return PodInfo.of(pod);
      }
    }
    return Optional.empty();
  }

  /** The problems of the last read when it was rejected (the last valid snapshot is in force), else empty. */
  public List<ManifestDirectory.Problem> problems() {
    return problems;
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }

  private void poll() {
    try {
      List<String> fingerprint = fingerprint(dir);
      if (fingerprint.equals(lastFingerprint)) {
        return;
      }
      lastFingerprint = fingerprint;
      ManifestDirectory.Result result = ManifestDirectory.load(dir);
      if (result instanceof ManifestDirectory.Valid valid) {
        problems = List.of();
        resources = valid.resources();
        emitter.offer(valid.snapshot());
      } else {
        List<ManifestDirectory.Problem> found = ((ManifestDirectory.Invalid) result).problems();
        problems = found;
        String kept = current().map(s -> "version " + s.version() + " stays in force").orElse("no mesh configuration yet");
        LOG.warn("manifests in {} rejected ({} problems; {}):\n  {}", dir, found.size(), kept,
            String.join("\n  ", found.stream().map(ManifestDirectory.Problem::toString).toList()));
      }
    } catch (RuntimeException e) {
      LOG.error("reading manifests in {} failed; will retry", dir, e);
      lastFingerprint = null;
    }
  }

  /** Real path, size and modification time of every manifest file, or the listing error. */
  static List<String> fingerprint(Path dir) {
    List<String> entries = new ArrayList<>();
    try {
      for (Path file : ManifestDirectory.manifestFiles(dir)) {
        try {
          entries.add(file.toRealPath() + " " + Files.size(file) + " " + Files.getLastModifiedTime(file));
        } catch (IOException e) {
          entries.add(file + " " + e);
        }
      }
    } catch (IOException e) {
      entries.add(dir + " " + e);
    }
    return entries;
  }
}

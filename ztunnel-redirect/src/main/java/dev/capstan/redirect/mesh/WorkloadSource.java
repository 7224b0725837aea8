package dev.capstan.redirect.mesh;

import dev.capstan.core.model.Workload;
import java.util.List;
import java.util.Optional;

/** The workloads of the mesh, as the redirect daemon needs them: every one listed is enrolled. */
public interface WorkloadSource extends AutoCloseable {

  /** Every workload of the last published mesh, or empty before one was loaded. */
  Optional<List<Workload>> workloads();

  /** {@code listener} runs (on any thread) after the workloads may have changed. */
  void onChange(Runnable listener);

  /** Re-reads the source whole (anti-entropy); may complete in the background. */
  void refresh();

  @Override
  void close();
}

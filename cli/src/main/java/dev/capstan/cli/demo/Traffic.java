package dev.capstan.cli.demo;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * The demo's load as {@link DemoCommand} drives it: the frontend pod's clients, in this JVM
 * ({@link Frontend}) or in the pod's own network namespace.
 */
public interface Traffic {

  /**
   * Sends {@code requests} uncounted requests on one connection (JIT, the first TLS handshakes);
   * gives up after {@code within}; returns whether every request succeeded.
   */
  boolean warmUp(int requests, Duration within);

  /** Runs the counted traffic; calls {@code progress} once a second on this thread. */
  Frontend.Result run(Duration duration, int connections, int rate, Consumer<Frontend.Progress> progress)
      throws InterruptedException;

  /** Ends the run early (the demo is stopping). */
  void stop();
}

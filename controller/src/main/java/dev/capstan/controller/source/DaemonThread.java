package dev.capstan.controller.source;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The one background thread of a source: named, a daemon, so it never holds the JVM up. */
final class DaemonThread {

  private DaemonThread() {}

  static ScheduledExecutorService single(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }
}

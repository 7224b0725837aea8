package dev.capstan.benchmarks;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.capstan.nodeagent.state.HazelcastMeshView;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Counts the full re-reads the views' anti-entropy check starts ("an event was missed" in
 * {@link HazelcastMeshView}'s log), so the egress of a batch of changes can be told apart from
 * the egress of the re-reads that happened meanwhile.
 */
final class Reloads extends AppenderBase<ILoggingEvent> {

  private final AtomicInteger count = new AtomicInteger();

  private Reloads() {}

  static Reloads attach() {
    Logger logger = (Logger) LoggerFactory.getLogger(HazelcastMeshView.class);
    Reloads reloads = new Reloads();
    reloads.setContext(logger.getLoggerContext());
    reloads.start();
    logger.addAppender(reloads);
    return reloads;
  }

  int count() {
    return count.get();
  }

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getFormattedMessage().contains("an event was missed")) {
      count.incrementAndGet();
    }
  }
}

package dev.capstan.nodeagent.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capstan.nodeagent.config.AgentConfig.AccessLogFormat;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per proxied connection when it ends, on the {@code capstan.access} logger. Refused
 * connections get a WARN line with the reason on the proxy's logger and a metric instead.
 */
public final class AccessLog {

  private static final Logger LOG = LoggerFactory.getLogger("capstan.access");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One connection's record.
   *
   * @param labels who talked to whom
   * @param sourceAddress client address
   * @param destinationAddress address the bytes went to
   * @param start when the connection was accepted
   * @param duration how long it lasted
   * @param sent bytes from source to destination
   * @param received bytes from destination to source
   * @param outcome {@code ok}, {@code aborted} or a failure reason
   */
  public record Entry(
      ConnectionLabels labels,
      String sourceAddress,
      String destinationAddress,
      Instant start,
      Duration duration,
      long sent,
      long received,
      String outcome) {}

  private final AccessLogFormat format;

  public AccessLog(AccessLogFormat format) {
    this.format = format;
  }

  public void log(Entry e) {
    if (format == AccessLogFormat.OFF || !LOG.isInfoEnabled()) {
      return;
    }
    if (format == AccessLogFormat.JSON) {
      ObjectNode o = JSON.createObjectNode();
      o.put("start", e.start().toString());
      o.put("reporter", e.labels().reporter());
      o.put("src.addr", e.sourceAddress());
      o.put("src.workload", e.labels().sourceWorkload());
      o.put("src.namespace", e.labels().sourceNamespace());
      o.put("src.identity", e.labels().sourcePrincipal());
      o.put("dst.addr", e.destinationAddress());
      o.put("dst.service", e.labels().destinationService());
      o.put("dst.workload", e.labels().destinationWorkload());
      o.put("dst.namespace", e.labels().destinationNamespace());
      o.put("dst.identity", e.labels().destinationPrincipal());
      o.put("bytes_sent", e.sent());
      o.put("bytes_recv", e.received());
      o.put("duration_ms", e.duration().toMillis());
      o.put("outcome", e.outcome());
      try {
        LOG.info(JSON.writeValueAsString(o));
      } catch (JsonProcessingException ex) {
        LOG.info("{}", o);
      }
      return;
    }
    LOG.info("{} src.addr={} src.workload={}/{} src.identity={} dst.addr={} dst.service={} dst.workload={}/{} "
            + "dst.identity={} bytes_sent={} bytes_recv={} duration={}ms outcome={}",
        e.labels().reporter(), e.sourceAddress(), e.labels().sourceNamespace(), e.labels().sourceWorkload(),
        e.labels().sourcePrincipal(), e.destinationAddress(), e.labels().destinationService(),
        e.labels().destinationNamespace(), e.labels().destinationWorkload(), e.labels().destinationPrincipal(),
        e.sent(), e.received(), e.duration().toMillis(), e.outcome());
  }
}

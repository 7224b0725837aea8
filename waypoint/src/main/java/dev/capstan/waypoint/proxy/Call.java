package dev.capstan.waypoint.proxy;

import dev.capstan.waypoint.telemetry.RequestTelemetry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;

/** One request's facts for its telemetry, filled in as it goes (on its event loop), recorded once. */
final class Call {
  private final RequestTelemetry telemetry;
  private final Instant start = Instant.now();
  private final long startNanos = System.nanoTime();
  private final String source;
  private final String principal;
  private final String service;
  private final String method;
  private final String authority;
  private final String path;
  long requestBytes;
  String route = "";
  String backend = "";
  String endpoint = "";
  String traceId = "";
  private String flag = "";
  private boolean recorded;

  Call(RequestTelemetry telemetry, String source, String principal, String service, HttpRequest head) {
    this.telemetry = telemetry;
    this.source = source;
    this.principal = principal;
    this.service = service;
    this.method = head.method().name();
    String host = head.headers().get(HttpHeaderNames.HOST);
    this.authority = host == null ? "" : host;
    this.path = pathOf(head.uri());
  }

  /** Why the waypoint answered itself (or ended the exchange). */
  Call flag(String why) {
    flag = why;
    return this;
  }

  void finished(int status, long responseBytes) {
    if (recorded) {
      return;
    }
    recorded = true;
    telemetry.record(new RequestTelemetry.Entry(start, Duration.ofNanos(System.nanoTime() - startNanos), source, principal,
        method, authority, path, status, service, route, backend, endpoint, requestBytes, responseBytes, traceId, flag));
  }

  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }
}

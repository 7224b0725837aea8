package dev.capstan.controller.ca;

import dev.capstan.core.ca.CaProtocol;
import dev.capstan.core.ca.CertificateRequest;
import dev.capstan.core.ca.CertificateResponse;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Pem;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA's gRPC server ({@code istio.v1.auth.IstioCertificateService/CreateCertificate}) over
 * TLS 1.3 and HTTP/2. Its certificate is issued by the mesh CA for the controller's SPIFFE ID plus
 * the configured DNS names, and renewed at half-life. Callers present no certificate (they may not
 * have one yet): they authenticate with a bearer token. The event loop only decodes and answers;
 * authentication, checks and signing run on worker threads.
 */
public final class CaServer {

  private static final Logger LOG = LoggerFactory.getLogger(CaServer.class);
  private static final long MAX_MESSAGE_BYTES = 64 * 1024;
  private static final Set<String> TLS_VERSIONS = Set.of("TLSv1.3");

  private final Vertx vertx;
  private final CaConfig config;
  private final CertificateAuthority authority;
  private HttpServer server;
  private volatile CertifiedKey serving;
  private volatile long renewTimer = -1;

  /**
   * @param ca the signing CA (from a {@link CaSource})
   * @param authenticator who calls (bootstrap tokens or TokenReview)
   * @param placement which service accounts run on which node
   * @param registry where {@code capstan_ca_*} meters go
   */
  public CaServer(Vertx vertx, CaConfig config, SigningCa ca, Authenticator authenticator, Placement placement,
      MeterRegistry registry, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.authority = new CertificateAuthority(config, ca, authenticator, placement, new CaMetrics(registry), clock);
  }

  /** Binds the server; the future fails if it cannot listen. */
  public Future<CaServer> start() {
    serving = authority.serverCertificate();
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(MAX_MESSAGE_BYTES));
    grpc.callHandler(CaProtocol.SERVER_METHOD, this::handle);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.host())
        .setPort(config.port())
        .setSsl(true)
        .setUseAlpn(true)
        .setAlpnVersions(List.of(HttpVersion.HTTP_2))
        .setEnabledSecureTransportProtocols(TLS_VERSIONS)
        .setKeyCertOptions(keyCert(serving));
    server = vertx.createHttpServer(options).requestHandler(grpc);
    return server.listen().map(s -> {
      LOG.info("CA listening on {}:{} as {} (also {}), signing with {}", config.host(), s.actualPort(),
          config.serverIdentity(), config.serverNames(), authority.signingCa().certificate().getSubjectX500Principal());
      scheduleRenewal();
      return this;
    });
  }

  /** The bound port. */
  public int port() {
    return server.actualPort();
  }

  /** The chain the server presents now (leaf first). */
  public CertifiedKey servingCertificate() {
    return serving;
  }

  /** Stops listening. */
  public Future<Void> close() {
    if (renewTimer >= 0) {
      vertx.cancelTimer(renewTimer);
    }
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(GrpcServerRequest<CertificateRequest, CertificateResponse> call) {
    String peer = String.valueOf(call.connection().remoteAddress());
    Optional<String> token = CaProtocol.bearerToken(call.headers().get(CaProtocol.AUTHORIZATION));
    call.last().onComplete(decoded -> {
      if (decoded.failed()) {
        Denial d = new Denial(Denial.Reason.MALFORMED_REQUEST, "undecodable request: " + decoded.cause().getMessage());
        authority.refused(d, peer);
        fail(call, d);
        return;
      }
      CertificateRequest request = decoded.result();
      vertx.executeBlocking(() -> authority.issue(token, request, peer), false).onComplete(answer -> {
        if (answer.succeeded()) {
          call.response().send(answer.result());
        } else if (answer.cause() instanceof Denial d) {
          fail(call, d);
        } else {
          call.response().status(GrpcStatus.INTERNAL).statusMessage("internal: " + answer.cause()).end();
        }
      });
    });
  }

  private static void fail(GrpcServerRequest<CertificateRequest, CertificateResponse> call, Denial d) {
    call.response().status(d.reason().status()).statusMessage(d.statusMessage()).end();
  }

  private void scheduleRenewal() {
    Duration life = Duration.between(serving.leaf().getNotBefore().toInstant(), serving.notAfter());
    long delay = Math.max(1_000, life.dividedBy(2).toMillis());
    renewTimer = vertx.setTimer(delay, id -> renew().onComplete(result -> {
      if (result.failed()) {
        LOG.error("CA server certificate renewal failed; retrying at the next half-life: {}", result.cause().toString());
      }
      scheduleRenewal();
    }));
  }

  /** Issues a new server certificate and makes new connections use it. */
  Future<CertifiedKey> renew() {
    return vertx.executeBlocking(authority::serverCertificate, false)
        .compose(fresh -> server.updateSSLOptions(sslOptions(fresh)).map(updated -> {
          serving = fresh;
          LOG.info("CA server certificate renewed, valid until {}", fresh.notAfter());
          return fresh;
        }));
  }

  private static ServerSSLOptions sslOptions(CertifiedKey key) {
    return new ServerSSLOptions()
        .setUseAlpn(true)
        .setApplicationLayerProtocols(List.of("h2"))
        .setEnabledSecureTransportProtocols(TLS_VERSIONS)
        .setKeyCertOptions(keyCert(key));
  }

  private static PemKeyCertOptions keyCert(CertifiedKey key) {
    return new PemKeyCertOptions()
        .setKeyValue(Buffer.buffer(Pem.encodeKey(key.key())))
        .setCertValue(Buffer.buffer(Pem.encode(key.chain())));
  }
}

package dev.capstan.core.ca;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TrustBundle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The client side of the CA protocol (node agents and waypoints): a gRPC client of
 * {@code istio.v1.auth.IstioCertificateService} over TLS 1.3, verifying the CA server against the
 * mesh root and its expected identity (the controller's SPIFFE ID, or a DNS name). Each call
 * reads the bearer token from its file (projected tokens rotate), and an answer is accepted only
 * if its leaf names the requested identity, carries our public key and chains to the mesh root.
 *
 * <p>{@link #sign} reads the token file: call it off event loops (the {@link CertificateManager}
 * does). Keep a reference for as long as it is used: Vert.x closes unreferenced clients.
 */
public final class CaClient implements CertificateSigner {

  /** How the CA server's certificate must name the server. */
  public sealed interface ServerCheck {
    /** By its SPIFFE ID (the controller's): {@code spiffe://<td>/ns/<ns>/sa/<controller-sa>}. */
    record ById(SpiffeId identity) implements ServerCheck {}

    /** By a DNS name among its SANs (e.g. {@code capstan-controller.capstan-system.svc}). */
    record ByName(String dnsName) implements ServerCheck {}
  }

  /**
   * Where the CA is and how to talk to it.
   *
   * @param host the CA's host
   * @param port the CA's port (15012)
   * @param tokenFile the bearer token, read on every call
   * @param server how the server's certificate must name it
   * @param timeout deadline of one call, connection included
   * @param validity lifetime to ask for; zero lets the CA choose
   */
  public record Settings(String host, int port, Path tokenFile, ServerCheck server, Duration timeout, Duration validity) {
    public Settings {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(tokenFile, "tokenFile");
      Objects.requireNonNull(server, "server");
      if (port <= 0 || port > 65_535) {
        throw new IllegalArgumentException("CA port must be 1..65535, not " + port);
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("CA timeout must be positive, not " + timeout);
      }
      if (validity.isNegative()) {
        throw new IllegalArgumentException("requested validity must not be negative, not " + validity);
      }
    }

    /** A CA verified by SPIFFE ID, with a 10 s deadline and the CA's default validity. */
    public static Settings of(String host, int port, Path tokenFile, SpiffeId serverIdentity) {
      return new Settings(host, port, tokenFile, new ServerCheck.ById(serverIdentity), Duration.ofSeconds(10), Duration.ZERO);
    }
  }

  private final Settings settings;
  private final GrpcClient client;
  private final SpiffeTrustManager answerCheck;

  /**
   * @param bundle the mesh root(s) (e.g. read from the mounted {@code root-cert.pem}); read at
   *     each handshake and check, so a replaced bundle applies at once
   * @param trustDomain the mesh's trust domain
   */
  public CaClient(Vertx vertx, Settings settings, TrustBundle bundle, String trustDomain, Clock clock) {
    this.settings = settings;
    this.answerCheck = new SpiffeTrustManager(trustDomain, bundle, clock);
    HttpClientOptions http = new HttpClientOptions()
        .setSsl(true)
        .setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setTrustOptions(TrustOptions.wrap(new CaServerTrust(bundle, settings.server(), clock)))
        .setVerifyHost(false) // the trust manager checks the server's name or SPIFFE ID itself
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis()));
    GrpcClientOptions grpc = new GrpcClientOptions()
        .setScheduleDeadlineAutomatically(true)
        .setMaxMessageSize(256 * 1024);
    this.client = GrpcClient.client(vertx, grpc, http);
  }

  @Override
  public CompletionStage<CertifiedKey> sign(SpiffeId id, KeyPair key, String csrPem) {
    String token;
    try {
      token = Files.readString(settings.tokenFile(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return Future.<CertifiedKey>failedFuture(new CaException(GrpcStatus.FAILED_PRECONDITION,
          "cannot read the CA token " + settings.tokenFile() + ": " + e)).toCompletionStage();
    }
    CertificateRequest request = new CertificateRequest(csrPem, settings.validity().toSeconds(), Map.of());
    return client.request(SocketAddress.inetSocketAddress(settings.port(), settings.host()), CaProtocol.CLIENT_METHOD)
        .recover(e -> Future.failedFuture(new CaException(GrpcStatus.UNAVAILABLE,
            "cannot reach the CA at " + settings.host() + ":" + settings.port() + ": " + e.getMessage(), e)))
        .compose(call -> {
          call.headers().set(CaProtocol.AUTHORIZATION, CaProtocol.bearer(token));
          call.timeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
          return call.send(request).compose(this::answer);
        })
        .compose(answer -> verified(id, key, answer))
        .toCompletionStage();
  }

  /** Closes the connections. */
  public Future<Void> close() {
    return client.close();
  }

  private Future<CertificateResponse> answer(GrpcClientResponse<CertificateRequest, CertificateResponse> response) {
    return response.last().transform(last -> {
      GrpcStatus status = response.status();
      if (status != null && status != GrpcStatus.OK) {
        String message = response.statusMessage();
        return Future.failedFuture(new CaException(status, message == null ? "no message" : message));
      }
      if (last.failed()) {
        return Future.failedFuture(new CaException(GrpcStatus.UNAVAILABLE,
            "CA call failed: " + last.cause().getMessage(), last.cause()));
      }
      return Future.succeededFuture(last.result());
    });
  }

  private Future<CertifiedKey> verified(SpiffeId id, KeyPair key, CertificateResponse answer) {
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (String pem : answer.certChainPem()) {
        chain.addAll(Pem.certificates(pem));
      }
      if (chain.isEmpty()) {
        throw new CertificateException("CA answered with an empty chain");
      }
      SpiffeId named = answerCheck.verify(chain.toArray(new X509Certificate[0]));
      if (!named.equals(id)) {
        throw new CertificateException("CA issued a certificate for " + named + ", not for " + id);
      }
      if (!Arrays.equals(chain.get(0).getPublicKey().getEncoded(), key.getPublic().getEncoded())) {
        throw new CertificateException("CA issued a certificate for another key");
      }
      return Future.succeededFuture(new CertifiedKey(id, key.getPrivate(), chain));
    } catch (CertificateException e) {
      return Future.failedFuture(new CaException(GrpcStatus.INTERNAL, "CA answer rejected: " + e.getMessage(), e));
    }
  }
}

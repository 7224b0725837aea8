package dev.capstan.waypoint.identity;

import dev.capstan.core.ca.CaClient;
import dev.capstan.core.ca.CertificateManager;
import dev.capstan.core.ca.Scheduler;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.core.tls.TrustBundle;
import dev.capstan.waypoint.config.WaypointConfig;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waypoint's own identity: its certificate and the two TLS contexts made from it, the HBONE
 * server's (what node agents tunnel to) and the upstream client's (the waypoint's tunnels to the
 * endpoints' node agents). From files, read once at start; or from the controller's CA, as
 * istiod issues a waypoint's: a new P-256 key and a CSR for its own service account, sent with the
 * pod's projected token ({@link CertificateManager}: renewed at half-life, retried with backoff,
 * the current certificate kept until it expires).
 *
 * <p>A new certificate swaps both contexts at once (one volatile write): new connections, either
 * way, use it; established ones keep the session they made, so none is dropped. Until the first
 * certificate, and after one expired without renewal, the waypoint is not {@link #ready}, the
 * HBONE server refuses connections, and {@link #client} still gives the last context (peers
 * refuse an expired certificate themselves). Contexts are built on the certificate manager's
 * thread, never on an event loop.
 */
public final class WaypointCertificates implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WaypointCertificates.class);

  /** A certificate and the contexts made from it, swapped together. */
  private record Current(CertifiedKey key, SslContext server, SslContext client) {}

  private final SpiffeId identity;
  private final MeshTls tls;
  private final String source;
  private volatile Current current;
  /** The last client context, kept after an expiry (never null once there was a certificate). */
  private volatile SslContext lastClient;
  private volatile CaClient caClient;
  private volatile CertificateManager manager;

  private WaypointCertificates(SpiffeId identity, TrustBundle roots, String trustDomain, String source) {
    this.identity = identity;
    this.tls = new MeshTls(new SpiffeTrustManager(trustDomain, roots, Clock.systemUTC()), TlsEngine.AUTO);
    this.source = source;
  }

  /** The certificate of {@code identity} from the files of {@code files}; fails if one is missing or bad. */
  public static WaypointCertificates fromFiles(SpiffeId identity, WaypointConfig.CertFiles files, String trustDomain)
      throws IOException, CertificateException {
    Path dir = files.dir().resolve(identity.namespace()).resolve(identity.serviceAccount());
    CertifiedKey key = new CertifiedKey(identity, Pem.privateKey(read(dir.resolve("key.pem"))),
        Pem.certificates(read(dir.resolve("cert-chain.pem"))));
    TrustBundle roots = new TrustBundle(Pem.certificates(read(files.dir().resolve("root-cert.pem"))));
    WaypointCertificates certificates = new WaypointCertificates(identity, roots, trustDomain, "files " + files.dir());
    certificates.install(key);
    if (certificates.current == null) {
      throw new IOException("the certificate in " + dir + " cannot be used for TLS (the log says why)");
    }
    return certificates;
  }

  /**
   * Asks the CA of {@code ca} for the certificate of {@code identity} and keeps it renewed. Returns
   * at once; {@link #ready} says when the first certificate is in. Fails if the root cannot be read.
   *
   * @param scheduler where the certificate manager runs (one thread); the caller owns it
   * @param clock the manager's clock (renewal and expiry times)
   */
  public static WaypointCertificates fromCa(Vertx vertx, SpiffeId identity, WaypointConfig.CertAuthority ca,
      String trustDomain, Scheduler scheduler, Clock clock) throws IOException, CertificateException {
    TrustBundle roots = new TrustBundle(Pem.certificates(read(ca.root())));
    WaypointCertificates certificates = new WaypointCertificates(identity, roots, trustDomain,
        "CA " + ca.host() + ":" + ca.port());
    CaClient client = new CaClient(vertx, new CaClient.Settings(ca.host(), ca.port(), ca.token(), ca.server(),
        Duration.ofSeconds(10), Duration.ZERO), roots, trustDomain, clock);
    CertificateManager manager = new CertificateManager(client, certificates::install, certificates::expired, scheduler,
        clock, CertificateManager.Settings.defaults(), RandomGenerator.getDefault(), CertificateManager.Events.NONE);
    certificates.caClient = client;
    certificates.manager = manager;
    LOG.info("waypoint {}: asking the CA at {}:{} for its certificate", identity, ca.host(), ca.port());
    manager.update(Set.of(identity));
    return certificates;
  }

  /** The waypoint's SPIFFE ID. */
  public SpiffeId identity() {
    return identity;
  }

  /** Whether there is a certificate now. */
  public boolean ready() {
    return current != null;
  }

  /** The certificate now, if any. */
  public Optional<CertifiedKey> certificate() {
    Current c = current;
    return c == null ? Optional.empty() : Optional.of(c.key());
  }

  /** The HBONE server's context for a new connection; empty while there is no certificate. */
  public Optional<HboneServer.ServerTls> server() {
    Current c = current;
    return c == null ? Optional.empty() : Optional.of(new HboneServer.ServerTls(identity, c.server()));
  }

  /** The context upstream tunnels present; the last one after an expiry. */
  public SslContext client() {
    SslContext c = lastClient;
    if (c == null) {
      throw new IllegalStateException("waypoint " + identity + " has no certificate yet (" + source + ")");
    }
    return c;
  }

  /** Where the certificate comes from, for the config dump. */
  public String source() {
    return source;
  }

  private void install(CertifiedKey key) {
    try {
      Current next = new Current(key, tls.server(key), tls.client(key));
      current = next;
      lastClient = next.client();
      LOG.info("waypoint {}: certificate from {} installed (serial {}, valid until {})", identity, source,
          key.leaf().getSerialNumber().toString(16), key.notAfter());
    } catch (SSLException | RuntimeException e) {
      LOG.error("waypoint {}: the certificate from {} cannot be used for TLS, keeping the current one: {}", identity,
          source, e.toString());
    }
  }

  private void expired(SpiffeId id) {
    current = null;
    LOG.error("waypoint {}: certificate expired without renewal; HBONE connections are refused until the CA at {}"
        + " answers", id, source);
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  /** Stops renewing (the CA client's connections close); the certificate stays in use. */
  @Override
  public void close() {
    if (manager != null) {
      manager.close();
    }
    if (caClient != null) {
      caClient.close();
    }
  }
}

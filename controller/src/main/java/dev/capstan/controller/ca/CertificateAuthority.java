package dev.capstan.controller.ca;

import dev.capstan.core.ca.CertificateRequest;
import dev.capstan.core.ca.CertificateResponse;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decisions of the CA, in order: who calls (the {@link Authenticator} turns the bearer token
 * into a node, or into the one identity a waypoint may get), what the CSR asks for (exactly one URI
 * SAN, a SPIFFE ID of our trust domain, an ECDSA P-256 key whose signature verifies), whether the
 * caller may have that identity (a waypoint: it is its own; a node agent: it runs on the caller's
 * node, {@link Placement}), then the leaf. Every outcome is logged with its reason and counted.
 * Blocking (authenticators call the API server): runs on worker threads.
 */
public final class CertificateAuthority {

  private static final Logger LOG = LoggerFactory.getLogger(CertificateAuthority.class);

  private final CaConfig config;
  private final SigningCa ca;
  private final LeafSigner signer;
  private final Authenticator authenticator;
  private final Placement placement;
  private final CaMetrics metrics;
  private final Clock clock;
  private final List<String> chainAboveLeaf;

  public CertificateAuthority(
      CaConfig config, SigningCa ca, Authenticator authenticator, Placement placement, CaMetrics metrics, Clock clock) {
    this.config = config;
    this.ca = ca;
    this.signer = new LeafSigner(ca);
    this.authenticator = authenticator;
    this.placement = placement;
    this.metrics = metrics;
    this.clock = clock;
    this.chainAboveLeaf = ca.chain().stream().map(Pem::encode).toList();
  }

  public SigningCa signingCa() {
    return ca;
  }

  /**
   * Answers a request: the chain (leaf, intermediates, root) or a {@link Denial}.
   *
   * @param token the bearer token of the call, if any
   * @param peer the caller's address, for logs
   */
  public CertificateResponse issue(Optional<String> token, CertificateRequest request, String peer) throws Denial {
    Caller caller = null;
    SpiffeId requested = null;
    try {
      caller = authenticator.authenticate(token.orElseThrow(
          () -> new Denial(Denial.Reason.MISSING_TOKEN, "no 'authorization: Bearer <token>' header")));
      Duration validity = validity(request.validitySeconds());
      CsrCheck.Checked csr = CsrCheck.check(request.csrPem(), config.trustDomain());
      requested = csr.identity();
      if (caller.ownIdentity().isPresent()) {
        if (!caller.ownIdentity().get().equals(requested)) {
          throw new Denial(Denial.Reason.NOT_OWN_IDENTITY,
              caller.principal() + " may get only " + caller.ownIdentity().get() + ", not " + requested);
        }
      } else if (!placement.runsOn(caller.node(), requested.namespace(), requested.serviceAccount())) {
        throw new Denial(Denial.Reason.NOT_ON_NODE, "no workload of service account " + requested.namespace()
            + "/" + requested.serviceAccount() + " is scheduled on node " + caller.node());
      }
      Instant now = clock.instant();
      long started = System.nanoTime();
      X509Certificate leaf = signer.workload(csr.publicKey(), requested, now, validity);
      metrics.signing().record(Duration.ofNanos(System.nanoTime() - started));
      List<String> chain = new ArrayList<>(chainAboveLeaf.size() + 1);
      chain.add(Pem.encode(leaf));
      chain.addAll(chainAboveLeaf);
      metrics.issued();
      LOG.info("issued {} to {} ({}, {}): serial {}, valid until {}",
          requested, caller.node().isBlank() ? "a waypoint" : "node " + caller.node(), caller.principal(), peer,
          leaf.getSerialNumber().toString(16), leaf.getNotAfter().toInstant());
      return new CertificateResponse(chain);
    } catch (Denial d) {
      denied(d, peer, caller, requested);
      throw d;
    } catch (RuntimeException e) {
      Denial d = new Denial(Denial.Reason.INTERNAL, "the CA failed to answer; its log says why");
      LOG.error("certificate request from {} failed inside the CA", peer, e);
      denied(d, peer, caller, requested);
      throw d;
    }
  }

  /** Counts and logs a request refused before it reached {@link #issue} (e.g. undecodable bytes). */
  public void refused(Denial denial, String peer) {
    denied(denial, peer, null, null);
  }

  /**
   * A key and certificate for the CA server itself: its SPIFFE ID and the configured DNS names,
   * issued by this CA.
   */
  public CertifiedKey serverCertificate() {
    KeyPair pair = Issuer.newKeyPair();
    X509Certificate cert = signer.server(
        pair.getPublic(), config.serverIdentity(), config.serverNames(), clock.instant(), config.servingValidity());
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(cert);
    chain.addAll(ca.chain());
    return new CertifiedKey(config.serverIdentity(), pair.getPrivate(), chain);
  }

  private Duration validity(long seconds) throws Denial {
    if (seconds < 0) {
      throw new Denial(Denial.Reason.BAD_VALIDITY, "validity_duration is negative (" + seconds + " s)");
    }
    if (seconds == 0) {
      return config.leafValidity();
    }
    Duration asked = Duration.ofSeconds(seconds);
    return asked.compareTo(config.maxLeafValidity()) > 0 ? config.maxLeafValidity() : asked;
  }

  private void denied(Denial d, String peer, Caller caller, SpiffeId requested) {
    metrics.denied(d.reason());
    LOG.warn("refused certificate request from {} ({}{}): {}",
        peer, caller == null ? "node unknown" : caller.node().isBlank() ? caller.principal()
            : "node " + caller.node() + ", " + caller.principal(), requested == null ? "" : ", for " + requested,
        d.statusMessage());
  }
}

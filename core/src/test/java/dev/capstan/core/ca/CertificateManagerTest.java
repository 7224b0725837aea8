package dev.capstan.core.ca;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import java.io.StringReader;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The certificate lifecycle on a fake clock and a manual scheduler: no sleeps, no threads. */
class CertificateManagerTest {

  private static final SpiffeId FRONTEND = SpiffeId.of("cluster.local", "shop", "frontend");
  private static final SpiffeId BACKEND = SpiffeId.of("cluster.local", "shop", "backend");
  private static final Duration DAY = Duration.ofHours(24);

  /** A request the manager sent, answered when the test says. */
  private record Pending(SpiffeId id, KeyPair key, String csr, CompletableFuture<CertifiedKey> answer) {}

  private final Instant start = Instant.parse("2026-11-22T00:00:00Z");
  private final ManualScheduler.FakeClock clock = new ManualScheduler.FakeClock(start);
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final Issuer ca = Issuer.selfSignedRoot("cluster.local", start.minus(Duration.ofDays(1)), Duration.ofDays(3650));
  private final Deque<Pending> requests = new ArrayDeque<>();
  private final List<CertifiedKey> installed = new ArrayList<>();
  private final List<SpiffeId> removed = new ArrayList<>();
  private final List<Duration> retries = new ArrayList<>();
  private final List<SpiffeId> expired = new ArrayList<>();
  private CertificateManager manager;

  @BeforeEach
  void setUp() {
    manager = manager(new CertificateManager.Settings(Duration.ofSeconds(1), Duration.ofSeconds(8), 0));
  }

  private CertificateManager manager(CertificateManager.Settings settings) {
    CertificateSigner signer = (id, key, csr) -> {
      Pending p = new Pending(id, key, csr, new CompletableFuture<>());
      requests.add(p);
      return p.answer();
    };
    CertificateManager.Events events = new CertificateManager.Events() {
      @Override
      public void failed(SpiffeId id, Throwable cause, Duration retryIn) {
        retries.add(retryIn);
      }

      @Override
      public void expired(SpiffeId id) {
        expired.add(id);
      }
    };
    return new CertificateManager(signer, installed::add, removed::add, scheduler, clock, settings,
        RandomGenerator.getDefault(), events);
  }

  @Test
  void fetches_a_certificate_when_an_identity_appears() throws Exception {
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();

    assertThat(requests).hasSize(1);
    Pending p = requests.peek();
    assertThat(p.id()).isEqualTo(FRONTEND);
    assertThat(csrUriSans(p.csr(), p.key())).containsExactly(FRONTEND.uri());

    issue(requests.poll(), DAY);

    assertThat(installed).hasSize(1);
    assertThat(installed.get(0).identity()).isEqualTo(FRONTEND);
    assertThat(installed.get(0).key()).isEqualTo(p.key().getPrivate());
    assertThat(removed).isEmpty();
  }

  @Test
  void renews_at_half_life_with_a_new_key() {
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();
    Pending first = requests.poll();
    issue(first, DAY);

    scheduler.advance(Duration.ofHours(12).minusSeconds(1));
    assertThat(requests).isEmpty();
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(requests).hasSize(1);

    Pending second = requests.poll();
    assertThat(second.key().getPublic()).isNotEqualTo(first.key().getPublic());
    issue(second, DAY);
    assertThat(installed).hasSize(2);
    assertThat(removed).isEmpty();
  }

  @Test
  void backs_off_exponentially_on_failure_then_succeeds() {
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();

    fail(requests.poll());
    assertThat(retries).containsExactly(Duration.ofSeconds(1));
    scheduler.advance(Duration.ofMillis(999));
    assertThat(requests).isEmpty();
    scheduler.advance(Duration.ofMillis(1));
    fail(requests.poll());
    scheduler.advance(Duration.ofSeconds(2));
    fail(requests.poll());
    scheduler.advance(Duration.ofSeconds(4));
    fail(requests.poll());
    scheduler.advance(Duration.ofSeconds(8));
    fail(requests.poll());
    assertThat(retries).containsExactly(
        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8), Duration.ofSeconds(8));
    assertThat(installed).isEmpty();

    scheduler.advance(Duration.ofSeconds(8));
    issue(requests.poll(), DAY);
    assertThat(installed).hasSize(1);

    // Success resets the backoff: the next failure waits the initial delay again.
    scheduler.advance(Duration.ofHours(12));
    fail(requests.poll());
    assertThat(retries).last().isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void keeps_the_old_certificate_until_it_expires_while_renewal_fails() {
    manager = manager(new CertificateManager.Settings(Duration.ofSeconds(1), Duration.ofHours(2), 0));
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();
    issue(requests.poll(), DAY);

    scheduler.advance(Duration.ofHours(12));
    Instant expiry = installed.get(0).notAfter();
    while (clock.instant().isBefore(expiry)) {
      assertThat(removed).as("still valid at %s", clock.instant()).isEmpty();
      fail(requests.poll());
      scheduler.advance(retries.get(retries.size() - 1));
    }

    assertThat(retries).hasSizeGreaterThan(10);
    assertThat(removed).containsExactly(FRONTEND);
    assertThat(expired).containsExactly(FRONTEND);
    assertThat(installed).hasSize(1);

    // The CA comes back: the identity is installed again.
    issue(requests.poll(), DAY);
    assertThat(installed).hasSize(2);
  }

  @Test
  void removes_a_certificate_when_its_identity_is_no_longer_wanted() {
    manager.update(Set.of(FRONTEND, BACKEND));
    scheduler.runDue();
    issue(requests.poll(), DAY);
    issue(requests.poll(), DAY);

    manager.update(Set.of(BACKEND));
    scheduler.runDue();

    assertThat(removed).containsExactly(FRONTEND);
    scheduler.advance(Duration.ofHours(12));
    assertThat(requests).extracting(Pending::id).containsExactly(BACKEND);
  }

  @Test
  void answer_arriving_after_the_identity_left_is_dropped() {
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();
    Pending late = requests.poll();

    manager.update(Set.of());
    scheduler.runDue();
    issue(late, DAY);

    assertThat(installed).isEmpty();
    assertThat(removed).isEmpty();
    scheduler.advance(Duration.ofDays(2));
    assertThat(requests).isEmpty();
  }

  @Test
  void answer_naming_another_identity_is_treated_as_a_failure() {
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();
    Pending p = requests.poll();
    p.answer().complete(ca.issue(BACKEND, clock.instant(), DAY));
    scheduler.runDue();

    assertThat(installed).isEmpty();
    assertThat(retries).containsExactly(Duration.ofSeconds(1));
  }

  @Test
  void closing_stops_renewals() {
    manager.update(Set.of(FRONTEND));
    scheduler.runDue();
    issue(requests.poll(), DAY);

    manager.close();
    scheduler.advance(Duration.ofDays(2));

    assertThat(requests).isEmpty();
    assertThat(removed).isEmpty();
  }

  @Test
  void jitter_spreads_waits_within_the_bounds() {
    RandomGenerator low = () -> 0L;
    CertificateManager jittery = new CertificateManager((id, key, csr) -> new CompletableFuture<>(), k -> { }, id -> { },
        scheduler, clock, new CertificateManager.Settings(Duration.ofSeconds(10), Duration.ofSeconds(60), 0.2),
        new FixedRandom(0.0), CertificateManager.Events.NONE);
    CertificateManager high = new CertificateManager((id, key, csr) -> new CompletableFuture<>(), k -> { }, id -> { },
        scheduler, clock, new CertificateManager.Settings(Duration.ofSeconds(10), Duration.ofSeconds(60), 0.2),
        new FixedRandom(0.999_999), CertificateManager.Events.NONE);

    assertThat(low.nextLong()).isZero();
    assertThat(jittery.backoff(1)).isEqualTo(Duration.ofSeconds(8));
    assertThat(high.backoff(1)).isBetween(Duration.ofMillis(11_999), Duration.ofSeconds(12));
    assertThat(jittery.backoff(10)).isEqualTo(Duration.ofSeconds(48));
  }

  /** A random source that always yields the same double. */
  private record FixedRandom(double value) implements RandomGenerator {
    @Override
    public long nextLong() {
      return 0;
    }

    @Override
    public double nextDouble() {
      return value;
    }
  }

  private void issue(Pending p, Duration validity) {
    Instant now = clock.instant();
    p.answer().complete(new CertifiedKey(p.id(), p.key().getPrivate(),
        List.of(ca.leaf(p.key().getPublic(), List.of(p.id().uri()), now, now.plus(validity)), ca.certificate())));
    scheduler.runDue();
  }

  private void fail(Pending p) {
    p.answer().completeExceptionally(new CaException(io.vertx.grpc.common.GrpcStatus.UNAVAILABLE, "CA down"));
    scheduler.runDue();
  }

  private static List<String> csrUriSans(String pem, KeyPair key) throws Exception {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      PKCS10CertificationRequest csr = (PKCS10CertificationRequest) parser.readObject();
      assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).build(csr.getSubjectPublicKeyInfo()))).isTrue();
      assertThat(csr.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(key.getPublic().getEncoded());
      assertThat(csr.getSubject().getRDNs()).isEmpty();
      Extensions ext = Extensions.getInstance(
          csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0].getAttrValues().getObjectAt(0));
      List<String> out = new ArrayList<>();
      for (GeneralName n : GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName).getNames()) {
        assertThat(n.getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier);
        out.add(n.getName().toString());
      }
      return out;
    }
  }
}

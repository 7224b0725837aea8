package dev.capstan.core.ca;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a certificate for every wanted identity (a node agent's: its local workloads'; a waypoint's:
 * its own). For each identity it makes an ECDSA P-256 key locally (a new one per request; keys
 * never leave the process), sends a CSR
 * naming it, installs the answer, and renews at half-life. A failed request is retried with
 * exponential backoff and jitter while the current certificate stays installed; it is removed only
 * when it expires. An identity no longer wanted is removed at once.
 *
 * <p>All work runs on the {@link Scheduler}'s thread, off the data path; the install and remove
 * callbacks run there too. {@link #update} may be called from any thread.
 */
public final class CertificateManager implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CertificateManager.class);

  /**
   * Retry timing.
   *
   * @param initialBackoff wait after the first failure
   * @param maxBackoff the longest wait between attempts
   * @param jitter spread of each wait, as a fraction: 0.2 means ±20%
   */
  public record Settings(Duration initialBackoff, Duration maxBackoff, double jitter) {
    public Settings {
      if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("backoff must be positive and initial <= max: " + initialBackoff + ", " + maxBackoff);
      }
      if (jitter < 0 || jitter >= 1) {
        throw new IllegalArgumentException("jitter must be in [0, 1), not " + jitter);
      }
    }

    /** 1 s doubling up to 1 min, ±20%. */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(1), Duration.ofMinutes(1), 0.2);
    }
  }

  /** Hooks for metrics; every method runs on the scheduler's thread. */
  public interface Events {
    Events NONE = new Events() {};

    /** A certificate was issued and installed. */
    default void issued(CertifiedKey key) {}

    /** A request failed; the next attempt is in {@code retryIn}. */
    default void failed(SpiffeId id, Throwable cause, Duration retryIn) {}

    /** A certificate expired before it could be renewed and was removed. */
    default void expired(SpiffeId id) {}
  }

  private final CertificateSigner signer;
  private final Consumer<CertifiedKey> install;
  private final Consumer<SpiffeId> remove;
  private final Scheduler scheduler;
  private final Clock clock;
  private final Settings settings;
  private final RandomGenerator random;
  private final Events events;
  private final Map<SpiffeId, Slot> slots = new HashMap<>();
  private boolean closed;

  /** One identity's state; touched only on the scheduler's thread. */
  private static final class Slot {
    final SpiffeId id;
    CertifiedKey current;
    int failures;
    boolean inFlight;
    boolean dropped;
    Scheduler.Cancellable next;
    Scheduler.Cancellable expiry;

    Slot(SpiffeId id) {
      this.id = id;
    }
  }

  /**
   * @param signer sends CSRs (the {@link CaClient})
   * @param install receives each new certificate (the first and every renewal)
   * @param remove told when an identity's certificate goes (not wanted any more, or expired)
   */
  public CertificateManager(CertificateSigner signer, Consumer<CertifiedKey> install, Consumer<SpiffeId> remove,
      Scheduler scheduler, Clock clock, Settings settings, RandomGenerator random, Events events) {
    this.signer = signer;
    this.install = install;
    this.remove = remove;
    this.scheduler = scheduler;
    this.clock = clock;
    this.settings = settings;
    this.random = random;
    this.events = events;
  }

  /** With default retry timing, a default random source and no events. */
  public CertificateManager(CertificateSigner signer, Consumer<CertifiedKey> install, Consumer<SpiffeId> remove,
      Scheduler scheduler, Clock clock) {
    this(signer, install, remove, scheduler, clock, Settings.defaults(), RandomGenerator.getDefault(), Events.NONE);
  }

  /** The identities wanted now (a node's local workloads', a waypoint's own); the others are removed. */
  public void update(Set<SpiffeId> wanted) {
    Set<SpiffeId> copy = Set.copyOf(wanted);
    scheduler.execute(() -> reconcile(copy));
  }

  /** Stops renewing; installed certificates are left in place. */
  @Override
  public void close() {
    scheduler.execute(() -> {
      closed = true;
      for (Slot slot : slots.values()) {
        slot.dropped = true;
        cancel(slot);
      }
      slots.clear();
    });
  }

  private void reconcile(Set<SpiffeId> wanted) {
    if (closed) {
      return;
    }
    for (var it = slots.values().iterator(); it.hasNext(); ) {
      Slot slot = it.next();
      if (!wanted.contains(slot.id)) {
        it.remove();
        slot.dropped = true;
        cancel(slot);
        if (slot.current != null) {
          slot.current = null;
          LOG.info("certificate for {} removed: no local workload needs it", slot.id);
          remove.accept(slot.id);
        }
      }
    }
    for (SpiffeId id : wanted) {
      if (!slots.containsKey(id)) {
        Slot slot = new Slot(id);
        slots.put(id, slot);
        request(slot);
      }
    }
  }

  private void request(Slot slot) {
    if (slot.dropped || slot.inFlight) {
      return;
    }
    slot.inFlight = true;
    CompletionStage<CertifiedKey> answer;
    try {
      KeyPair key = Issuer.newKeyPair();
      answer = signer.sign(slot.id, key, Csrs.create(slot.id, key));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    answer.whenComplete((key, error) -> scheduler.execute(() -> answered(slot, key, error)));
  }

  private void answered(Slot slot, CertifiedKey key, Throwable error) {
    slot.inFlight = false;
    if (slot.dropped) {
      return;
    }
    if (error == null && !slot.id.equals(key.identity())) {
      error = new IllegalStateException("signer returned a certificate for " + key.identity() + ", not " + slot.id);
    }
    if (error != null) {
      failed(slot, error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
      return;
    }
    slot.current = key;
    slot.failures = 0;
    install.accept(key);
    events.issued(key);
    Instant notBefore = key.leaf().getNotBefore().toInstant();
    Instant renewAt = notBefore.plus(Duration.between(notBefore, key.notAfter()).dividedBy(2));
    Duration untilRenewal = positive(Duration.between(clock.instant(), renewAt));
    LOG.info("certificate for {} installed, expires {}, renewal in {}", slot.id, key.notAfter(), untilRenewal);
    cancel(slot);
    slot.next = scheduler.schedule(untilRenewal, () -> request(slot));
    slot.expiry = scheduler.schedule(positive(Duration.between(clock.instant(), key.notAfter())), () -> expire(slot, key));
  }

  private void failed(Slot slot, Throwable cause) {
    slot.failures++;
    Duration wait = backoff(slot.failures);
    events.failed(slot.id, cause, wait);
    if (slot.current == null) {
      LOG.warn("certificate for {} not obtained (attempt {}), retrying in {}: {}", slot.id, slot.failures, wait, cause.toString());
    } else {
      LOG.warn("certificate for {} not renewed (attempt {}), keeping the current one until {}, retrying in {}: {}",
          slot.id, slot.failures, slot.current.notAfter(), wait, cause.toString());
    }
    if (slot.next != null) {
      slot.next.cancel();
    }
    slot.next = scheduler.schedule(wait, () -> request(slot));
  }

  private void expire(Slot slot, CertifiedKey key) {
    if (slot.dropped || slot.current != key) {
      return;
    }
    slot.current = null;
    LOG.error("certificate for {} expired at {} without renewal; its workloads cannot send or receive until the CA answers",
        slot.id, key.notAfter());
    remove.accept(slot.id);
    events.expired(slot.id);
  }

  /** {@code initial * 2^(failures-1)}, at most {@code max}, spread by ±jitter. */
  Duration backoff(int failures) {
    long initial = settings.initialBackoff().toMillis();
    long max = settings.maxBackoff().toMillis();
    long base = failures > 30 ? max : Math.min(max, initial << Math.max(0, failures - 1));
    double spread = settings.jitter() == 0 ? 1 : 1 - settings.jitter() + 2 * settings.jitter() * random.nextDouble();
    return Duration.ofMillis(Math.max(1, Math.round(base * spread)));
  }

  private static void cancel(Slot slot) {
    if (slot.next != null) {
      slot.next.cancel();
      slot.next = null;
    }
    if (slot.expiry != null) {
      slot.expiry.cancel();
      slot.expiry = null;
    }
  }

  private static Duration positive(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}

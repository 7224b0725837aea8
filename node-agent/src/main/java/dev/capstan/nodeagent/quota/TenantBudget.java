package dev.capstan.nodeagent.quota;

import dev.capstan.core.io.BufferAccount;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The node's buffer budget, shared by tenants (namespaces). Every byte a spliced connection holds
 * (read, not yet written) is charged to its tenant through a per-connection {@link BufferAccount}.
 *
 * <p>The rule, evaluated on every read:
 * <ul>
 *   <li>A tenant's <em>share</em> is the budget split over the active tenants (those with open
 *       connections) by weight.
 *   <li>Within its share, while other tenants are active too, a tenant reads while the node holds
 *       less than the budget.
 *   <li>Over its share (borrowing what others leave idle) a tenant reads only while the node holds
 *       less than the budget minus the <em>give-back</em> room: as soon as borrowers reach it they
 *       stop, so an owner that needs its share back finds that room at once and the rest as the
 *       borrowers' bytes drain. A tenant alone stops there too, so the room is free when another
 *       tenant arrives.
 *   <li>A connection reads only while it holds less than the connection window, so one connection
 *       cannot take all of its tenant's share.
 *   <li>Each direction of a connection has its own account, and a direction holding less than a
 *       small progress floor may always read: pausing a direction that holds (almost) nothing saves
 *       no memory, and a full-duplex peer (an echo, a request streamed while the response streams)
 *       would otherwise wait on us while we wait on it.
 * </ul>
 * <p>Besides memory, a tenant may be given a read-rate limit by the {@link LoadGovernor} while the
 * agent is overloaded (its event loops late): a read beyond the allowance stops the tenant's
 * connections until the allowance is refilled with time.
 *
 * <p>Nothing is dropped: a paused connection is simply not read until it may. A paused tenant
 * resumes with hysteresis (a margin below the threshold that paused it). The node holds at most
 * the budget plus one read per connection that was readable when its tenant paused.
 *
 * <p>Thread-safety: totals are atomics; an account is confined to its connection's event loop
 * (its splice reads and writes there); wake-ups hop to that loop.
 */
public final class TenantBudget {

  /**
   * @param budget bytes the node may hold in total
   * @param giveBack room kept free for tenants within their share: borrowers stop at budget minus this
   * @param connectionWindow bytes one direction of a connection may hold
   * @param progressFloor bytes one direction of a connection may always hold, paused tenant or not
   */
  public record Settings(long budget, long giveBack, long connectionWindow, long progressFloor) {
    /** The progress floor at a quarter of the connection window, at most 16 KiB. */
    public Settings(long budget, long giveBack, long connectionWindow) {
      this(budget, giveBack, connectionWindow, Math.max(1, Math.min(16 * 1024, connectionWindow / 4)));
    }

    public Settings {
      if (progressFloor < 0 || progressFloor > connectionWindow) {
        throw new IllegalArgumentException("progressFloor must be in [0, connectionWindow], got " + progressFloor);
      }
      if (budget <= 0) {
        throw new IllegalArgumentException("budget must be positive, got " + budget);
      }
      if (giveBack < 0 || giveBack >= budget) {
        throw new IllegalArgumentException("giveBack must be in [0, budget), got " + giveBack);
      }
      if (connectionWindow <= 0) {
        throw new IllegalArgumentException("connectionWindow must be positive, got " + connectionWindow);
      }
    }

    /** A budget with a quarter kept as give-back room and a 256 KiB connection window (capped at the budget). */
    public static Settings of(long budget) {
      return new Settings(budget, budget / 4, Math.min(256 * 1024, budget));
    }
  }

  private final Settings settings;
  private final long hysteresis;
  private final long progressFloor;
  private final LongSupplier nanoTime;
  private final AtomicLong held = new AtomicLong();
  private final AtomicLong peak = new AtomicLong();
  private final AtomicLong activeWeight = new AtomicLong();
  private final AtomicInteger activeTenants = new AtomicInteger();
  private final ConcurrentHashMap<String, Tenant> tenants = new ConcurrentHashMap<>();
  private final Set<Tenant> paused = ConcurrentHashMap.newKeySet();
  private volatile java.util.function.Consumer<Tenant> newTenants = t -> { };

  public TenantBudget(Settings settings, LongSupplier nanoTime) {
    this.settings = settings;
    this.hysteresis = Math.max(1, Math.min(settings.giveBack() / 2, settings.budget() / 16));
    this.progressFloor = settings.progressFloor();
    this.nanoTime = nanoTime;
  }

  public Settings settings() {
    return settings;
  }

  /** Bytes held by every connection now. */
  public long held() {
    return held.get();
  }

  /** The most ever held at once. */
  public long peak() {
    return peak.get();
  }

  /** The tenant of {@code namespace} (created at weight 1 on first use). */
  public Tenant tenant(String namespace) {
    Tenant t = tenants.get(namespace);
    if (t != null) {
      return t;
    }
    Tenant created = new Tenant(namespace);
    Tenant existing = tenants.putIfAbsent(namespace, created);
    if (existing != null) {
      return existing;
    }
    newTenants.accept(created);
    return created;
  }

  /** Called once for each tenant when it is first seen (metrics registration). */
  public void onNewTenant(java.util.function.Consumer<Tenant> listener) {
    this.newTenants = listener;
    tenants.values().forEach(listener);
  }

  /** Tenants seen so far. */
  public List<Tenant> tenants() {
    return List.copyOf(tenants.values());
  }

  /** Sets a tenant's weight (1 and up; from the namespace annotation {@code capstan.dev/buffer-weight}). */
  public void weight(String namespace, int weight) {
    if (weight < 1) {
      throw new IllegalArgumentException("weight must be at least 1, got " + weight);
    }
    Tenant t = tenant(namespace);
    synchronized (t) {
      int old = t.weight;
      t.weight = weight;
      if (t.connections.get() > 0) {
        activeWeight.addAndGet(weight - old);
      }
    }
    wakePaused();
  }

  /** Sets every tenant's weight from the mesh: the given ones, 1 for the rest. */
  public void weights(java.util.Map<String, Integer> weights) {
    weights.forEach((ns, w) -> {
      if (tenant(ns).weight != w) {
        weight(ns, w);
      }
    });
    for (Tenant t : tenants.values()) {
      if (!weights.containsKey(t.name) && t.weight != 1) {
        weight(t.name, 1);
      }
    }
  }

  /**
   * Opens the accounts of one connection of {@code tenant}, one per direction; the connection ends
   * when both are closed.
   */
  public BufferAccount.Pair open(Tenant tenant) {
    synchronized (tenant) {
      if (tenant.connections.getAndIncrement() == 0) {
        activeWeight.addAndGet(tenant.weight);
        activeTenants.incrementAndGet();
      }
    }
    AtomicInteger open = new AtomicInteger(2);
    return new BufferAccount.Pair(new Account(tenant, open), new Account(tenant, open));
  }

  /**
   * An account for the DATA waiting in one HBONE connection's streams, all of {@code tenant}
   * ({@code QueuedData}): counted in the tenant's and the node's bytes held, so the tenant's
   * splices slow down while it drains, but never refused — the HTTP/2 windows bound it. It is not a
   * connection of the tenant (an idle pooled connection makes no tenant active).
   */
  public BufferAccount openQueue(Tenant tenant) {
    return new Queue(tenant);
  }

  /** {@code bytes} more held by {@code t}, and by the node (whose peak it may raise). */
  private void hold(Tenant t, int bytes) {
    t.held.addAndGet(bytes);
    long total = held.addAndGet(bytes);
    if (total > peak.get()) {
      peak.accumulateAndGet(total, Math::max); // rarely: a new peak
    }
  }

  /** {@code bytes} no longer held by {@code t}. */
  private void unhold(Tenant t, int bytes) {
    t.held.addAndGet(-bytes);
    held.addAndGet(-bytes);
  }

  /** Whether {@code t} may read now (the tenant rule, without the connection window). */
  boolean tenantMayRead(Tenant t) {
    long total = held.get();
    // The give-back room is for a tenant within its share while others are active too: a lone
    // tenant stops before it, so a tenant that arrives finds it free at once.
    boolean withinShare = activeTenants.get() > 1 && t.held.get() < t.share();
    long limit = withinShare ? settings.budget() : settings.budget() - settings.giveBack();
    return t.paused ? total < limit - hysteresis : total < limit;
  }

  private void pause(Tenant t) {
    if (!t.paused) {
      synchronized (t) {
        if (!t.paused) {
          t.paused = true;
          t.pausedSince = nanoTime.getAsLong();
          t.pauses.incrementAndGet();
          paused.add(t);
        }
      }
    }
  }

  /** After a release: resumes the paused tenants that may read again, and wakes their connections. */
  private void wakePaused() {
    if (paused.isEmpty()) {
      return;
    }
    for (Tenant t : paused) {
      if (tenantMayRead(t)) {
        synchronized (t) {
          if (!t.paused) {
            continue;
          }
          t.paused = false;
          t.throttledNanos.addAndGet(nanoTime.getAsLong() - t.pausedSince);
          paused.remove(t);
        }
        t.accounts.forEach(Account::wake);
      }
    }
  }

  /** One namespace's use of the budget. */
  public final class Tenant {
    private final String name;
    private volatile int weight = 1;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong throttledNanos = new AtomicLong();
    private final AtomicLong pauses = new AtomicLong();
    private final Set<Account> accounts = ConcurrentHashMap.newKeySet();
    private volatile boolean paused;
    private volatile long pausedSince;
    // Read-rate limit set by the LoadGovernor while the agent is overloaded (0: none).
    private final LongAdder readBytes = new LongAdder();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicLong rateLimitedNanos = new AtomicLong();
    private volatile long rateLimit;
    private volatile boolean starved;
    private volatile long starvedSince;

    private Tenant(String name) {
      this.name = name;
    }

    public String name() {
      return name;
    }

    public int weight() {
      return weight;
    }

    /** Open connections. */
    public int connections() {
      return connections.get();
    }

    /** Bytes held now. */
    public long held() {
      return held.get();
    }

    /** This tenant's guaranteed part of the budget now (the whole budget while it is alone or idle). */
    public long share() {
      long total = activeWeight.get();
      if (total <= 0 || connections.get() == 0) {
        return settings.budget();
      }
      return Math.max(1, (long) ((double) settings.budget() * weight / total));
    }

    /** Bytes held beyond the share. */
    public long borrowed() {
      return Math.max(0, held.get() - share());
    }

    public boolean paused() {
      return paused;
    }

    /** Time spent paused, including the current pause. */
    public long throttledNanos() {
      long t = throttledNanos.get();
      return paused ? t + (nanoTime.getAsLong() - pausedSince) : t;
    }

    /** How many times this tenant was paused. */
    public long pauses() {
      return pauses.get();
    }

    /** Bytes read for this tenant since it was first seen. */
    public long readBytes() {
      return readBytes.sum();
    }

    /** Its read-rate limit in bytes per second, 0 when it has none. */
    public long rateLimit() {
      return rateLimit;
    }

    /** Time its connections waited for their rate limit, including the current wait. */
    public long rateLimitedNanos() {
      long t = rateLimitedNanos.get();
      return starved ? t + (nanoTime.getAsLong() - starvedSince) : t;
    }

    /**
     * Limits this tenant's reads to {@code bytesPerSecond} (0 lifts the limit). The allowance is
     * refilled by {@link #refill}; a read that takes it below zero stops the tenant's connections
     * until a refill brings it back above.
     */
    void limitRate(long bytesPerSecond) {
      rateLimit = bytesPerSecond;
      if (bytesPerSecond == 0) {
        tokens.set(0);
        unstarve();
      }
    }

    /** Adds {@code elapsedNanos} worth of allowance (at most {@link #BURST_NANOS} of it) and resumes a waiting tenant. */
    void refill(long elapsedNanos) {
      long limit = rateLimit;
      if (limit == 0) {
        return;
      }
      long burst = Math.max(MIN_BURST, limit * BURST_NANOS / 1_000_000_000L);
      long add = limit * elapsedNanos / 1_000_000_000L;
      long now = tokens.accumulateAndGet(add, (t, a) -> Math.min(burst, t + a));
      if (now > 0) {
        unstarve();
      }
    }

    /** Charges a read against the rate limit; false when the allowance ran out (the tenant waits). */
    private boolean spend(int bytes) {
      readBytes.add(bytes);
      if (rateLimit == 0) {
        return true;
      }
      if (tokens.addAndGet(-bytes) >= 0) {
        return true;
      }
      if (!starved) {
        synchronized (this) {
          if (!starved) {
            starvedSince = nanoTime.getAsLong();
            starved = true;
          }
        }
      }
      return false;
    }

    private void unstarve() {
      if (!starved) {
        return;
      }
      synchronized (this) {
        if (!starved) {
          return;
        }
        starved = false;
        rateLimitedNanos.addAndGet(nanoTime.getAsLong() - starvedSince);
      }
      // In a random order: the first connections to read spend the allowance, and a fixed order
      // would let the same ones win every refill while the others (a new connection's first
      // bytes) wait indefinitely.
      List<Account> waiting = new ArrayList<>(accounts);
      Collections.shuffle(waiting, ThreadLocalRandom.current());
      waiting.forEach(Account::wake);
    }

    @Override
    public String toString() {
      return name + " (held " + held.get() + ", share " + share() + (paused ? ", paused" : "")
          + (rateLimit > 0 ? ", rate limit " + rateLimit + " B/s" : "") + ")";
    }
  }

  /** Allowance a rate-limited tenant may save up, in time at its rate. */
  static final long BURST_NANOS = 4_000_000L;
  /** Smallest allowance a rate-limited tenant may save up: one full read. */
  static final long MIN_BURST = 64 * 1024;

  /** One direction of one connection: confined to its event loop, except {@link #wake}. */
  private final class Account implements BufferAccount {
    private final Tenant tenant;
    private final AtomicInteger connectionOpen;
    private long own;
    private boolean windowFull;
    private volatile Runnable wake = () -> { };
    private boolean closed;

    Account(Tenant tenant, AtomicInteger connectionOpen) {
      this.tenant = tenant;
      this.connectionOpen = connectionOpen;
      tenant.accounts.add(this);
    }

    @Override
    public boolean charge(int bytes) {
      own += bytes;
      hold(tenant, bytes);
      if (own >= settings.connectionWindow()) {
        windowFull = true;
      }
      if (!tenant.spend(bytes)) {
        return false; // over its rate limit: waits for the governor's next refill (time, not a peer, frees it)
      }
      if (!tenantMayRead(tenant)) {
        pause(tenant);
        return own < progressFloor;
      }
      return !windowFull;
    }

    @Override
    public void release(int bytes) {
      own -= bytes;
      unhold(tenant, bytes);
      if (windowFull && own < settings.connectionWindow() / 2) {
        windowFull = false;
        wake();
      } else if (own < progressFloor && own + bytes >= progressFloor && tenant.paused) {
        wake(); // back under the progress floor: this direction may move again
      }
      wakePaused();
    }

    @Override
    public boolean mayRead() {
      if (tenant.starved) {
        return false;
      }
      return own < progressFloor || (!windowFull && !tenant.paused && tenantMayRead(tenant));
    }

    @Override
    public void onWake(Runnable wake) {
      this.wake = wake;
    }

    void wake() {
      wake.run();
    }


    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      tenant.accounts.remove(this);
      if (connectionOpen.decrementAndGet() > 0) {
        return; // the other direction is still open
      }
      synchronized (tenant) {
        if (tenant.connections.decrementAndGet() == 0) {
          activeWeight.addAndGet(-tenant.weight);
          activeTenants.decrementAndGet();
        }
      }
      // Shares grew for the others.
      wakePaused();
    }
  }

  /** The DATA queued in one HBONE connection's streams: counted, never refused. */
  private final class Queue implements BufferAccount {
    private final Tenant tenant;
    private long own;
    private boolean closed;

    Queue(Tenant tenant) {
      this.tenant = tenant;
    }

    @Override
    public boolean charge(int bytes) {
      own += bytes;
      hold(tenant, bytes);
      if (!tenantMayRead(tenant)) {
        pause(tenant);
      }
      return true;
    }

    @Override
    public void release(int bytes) {
      own -= bytes;
      unhold(tenant, bytes);
      wakePaused();
    }

    @Override
    public boolean mayRead() {
      return true;
    }

    @Override
    public void onWake(Runnable wake) {}

    @Override
    public void close() {
      if (!closed && own > 0) {
        release((int) own);
      }
      closed = true;
    }
  }
}

package dev.capstan.waypoint.balance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Passive health: an endpoint that answers 5xx (or fails) {@code consecutiveErrors} times in a row
 * is ejected — left out of the choice — for {@code baseEjection} × the number of times it has been
 * ejected (capped at {@code maxEjection}), as Envoy's outlier detection does. At most
 * {@code maxEjectedShare} of a backend's endpoints are out at once (at least one when there are
 * two or more), and if every endpoint is out, all are used rather than none.
 */
public final class OutlierDetection {

  /**
   * @param consecutiveErrors errors in a row that eject an endpoint
   * @param baseEjection ejection time the first time; the n-th ejection lasts n times as long
   * @param maxEjection longest ejection
   * @param maxEjectedShare share of a backend's endpoints that may be out at once, 0–1
   */
  public record Settings(int consecutiveErrors, long baseEjection, long maxEjection, double maxEjectedShare) {
    /** 5 errors in a row, 30 s growing to 300 s, half of the endpoints at most. */
    public static Settings defaults() {
      return new Settings(5, 30_000_000_000L, 300_000_000_000L, 0.5);
    }
  }

  private final Settings settings;
  private final LongSupplier nanoTime;
  private final Map<String, State> states = new ConcurrentHashMap<>();

  public OutlierDetection(Settings settings, LongSupplier nanoTime) {
    this.settings = settings;
    this.nanoTime = nanoTime;
  }

  private static final class State {
    /** Written under the state's lock; read without it by the success path. */
    volatile int errors;
    int ejections;
    long ejectedUntil;
  }

  /** An answer from {@code key}: a 5xx or a failure counts against it, anything else clears its count. */
  public void observe(String key, boolean error, List<String> peers) {
    State s = states.computeIfAbsent(key, k -> new State());
    if (!error && s.errors == 0) {
      return; // the usual answer: nothing to clear, no lock taken
    }
    synchronized (s) {
      if (!error) {
        s.errors = 0;
        return;
      }
      s.errors++;
      long now = nanoTime.getAsLong();
      if (s.errors >= settings.consecutiveErrors() && s.ejectedUntil <= now && mayEject(peers, now)) {
        s.ejections++;
        s.ejectedUntil = now + Math.min(settings.maxEjection(), settings.baseEjection() * s.ejections);
        s.errors = 0;
      }
    }
  }

  /** The keys of {@code peers} to choose from now: the ones not ejected, or all if none is left. */
  public List<String> available(List<String> peers) {
    long now = nanoTime.getAsLong();
    List<String> in = null; // allocated only once one is out: usually none is
    for (int i = 0; i < peers.size(); i++) {
      String p = peers.get(i);
      if (ejected(p, now)) {
        if (in == null) {
          in = new ArrayList<>(peers.subList(0, i));
        }
      } else if (in != null) {
        in.add(p);
      }
    }
    return in == null || in.isEmpty() ? peers : in;
  }

  /** Whether {@code key} is out now. */
  public boolean ejected(String key) {
    return ejected(key, nanoTime.getAsLong());
  }

  private boolean ejected(String key, long now) {
    State s = states.get(key);
    if (s == null) {
      return false;
    }
    synchronized (s) {
      return s.ejectedUntil > now;
    }
  }

  private boolean mayEject(List<String> peers, long now) {
    if (peers.size() < 2) {
      return false;
    }
    long out = peers.stream().filter(p -> ejected(p, now)).count();
    long allowed = Math.max(1, (long) Math.floor(peers.size() * settings.maxEjectedShare()));
    return out < allowed;
  }
}

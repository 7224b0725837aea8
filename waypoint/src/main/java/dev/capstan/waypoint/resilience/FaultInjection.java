package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy.Abort;
import dev.capstan.core.model.TrafficPolicy.Delay;
import dev.capstan.core.model.TrafficPolicy.Faults;
import java.util.function.DoubleSupplier;

/**
 * Istio's fault injection: a share of requests is delayed, a share is aborted with a status
 * (drawn independently; a request may be delayed and then aborted, as Envoy's fault filter does).
 * Pure: the randomness is injected.
 */
public final class FaultInjection {

  /** Injects nothing. */
  public static final FaultInjection NONE = new FaultInjection(null, null);

  /**
   * What to do to one request.
   *
   * @param delayNanos wait this long before going on, 0 for no delay
   * @param abortStatus answer this status instead of forwarding, 0 to forward
   */
  public record Fault(long delayNanos, int abortStatus) {
    public static final Fault NONE = new Fault(0, 0);

    public boolean delayed() {
      return delayNanos > 0;
    }

    public boolean aborted() {
      return abortStatus > 0;
    }
  }

  private final Delay delay;
  private final Abort abort;

  private FaultInjection(Delay delay, Abort abort) {
    this.delay = delay;
    this.abort = abort;
  }

  public static FaultInjection of(Faults faults) {
    return new FaultInjection(faults.delay(), faults.abort());
  }

  /** Whether this injects anything at all. */
  public boolean active() {
    return delay != null || abort != null;
  }

  /**
   * The fault for one request; {@code random} gives numbers in {@code [0, 1)}, one drawn for the
   * delay (when there is one) and then one for the abort (when there is one).
   */
  public Fault decide(DoubleSupplier random) {
    if (!active()) {
      return Fault.NONE;
    }
    long delayNanos = delay != null && random.getAsDouble() * 100 < delay.percent() ? delay.duration().toNanos() : 0;
    int status = abort != null && random.getAsDouble() * 100 < abort.percent() ? abort.httpStatus() : 0;
    return delayNanos == 0 && status == 0 ? Fault.NONE : new Fault(delayNanos, status);
  }
}

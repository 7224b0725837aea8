package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy.Retry;
import java.util.BitSet;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Whether a failed try is tried again, compiled once from a {@link Retry}. The conditions are
 * Envoy's {@code retry_on}:
 *
 * <ul>
 *   <li>{@code 5xx}: any 5xx answer, a connect failure, a reset or a per-try timeout;
 *   <li>{@code gateway-error}: 502, 503 or 504, a connect failure, a reset or a per-try timeout;
 *   <li>{@code reset}: the upstream stream reset or closed before a whole answer, a connect failure
 *       or a per-try timeout (the answer never came);
 *   <li>{@code connect-failure}: the upstream stream could not be opened (nothing was sent);
 *   <li>a status ({@code 503}) or a range ({@code 500-504}): that answer.
 * </ul>
 *
 * <p>A try that qualifies is retried while retries remain, the request's body can be sent again,
 * and the {@link RetryBudget} has a retry — checked last, so the budget is spent only on retries
 * really made. The wait before retry {@code n} (1, 2, …) is Envoy's fully jittered exponential
 * backoff: a random time in {@code [0, (2^n − 1) × base)}, at most {@code max}.
 */
public final class RetryPolicy {

  /** No retries. */
  public static final RetryPolicy NONE = new RetryPolicy(0, new BitSet(), false, false, false, 0, 0, 0);

  /** How a try failed without an answer. */
  public enum Failure {
    /** The upstream stream could not be opened: nothing reached the backend. */
    CONNECT_FAILURE,
    /** The upstream reset or closed the stream before a whole answer. */
    RESET,
    /** The try took longer than the per-try timeout. */
    PER_TRY_TIMEOUT
  }

  /**
   * How a try ended: an answer's status, or a failure ({@code status} 0).
   *
   * @param status the answer's status, or 0 for a failure
   * @param failure the failure, or {@code null} for an answer
   */
  public record Outcome(int status, Failure failure) {
    public Outcome {
      if ((failure == null) == (status == 0)) {
        throw new IllegalArgumentException("an outcome is a status or a failure, got " + status + " and " + failure);
      }
    }

    public static Outcome status(int status) {
      return new Outcome(status, null);
    }

    public static Outcome failure(Failure failure) {
      return new Outcome(0, Objects.requireNonNull(failure, "failure"));
    }
  }

  /** Why a try is or is not retried (a label for logs and metrics). */
  public enum Reason {
    /** Retried. */
    RETRY,
    /** The outcome is not one of the policy's conditions (a success, or a status it does not name). */
    NOT_RETRYABLE,
    /** Every retry allowed was made. */
    ATTEMPTS_EXHAUSTED,
    /** The request's body was streamed on and cannot be sent again. */
    BODY_NOT_REPLAYABLE,
    /** The service's retry budget is spent. */
    BUDGET_EXHAUSTED
  }

  /**
   * A decision.
   *
   * @param reason why
   * @param backoffNanos how long to wait before the retry (0 when not retried)
   */
  public record Decision(Reason reason, long backoffNanos) {
    public boolean retry() {
      return reason == Reason.RETRY;
    }
  }

  private final int attempts;
  private final BitSet statuses;
  private final boolean onConnectFailure;
  private final boolean onReset;
  private final boolean onPerTryTimeout;
  private final long perTryTimeoutNanos;
  private final long backoffBaseNanos;
  private final long backoffMaxNanos;

  private RetryPolicy(int attempts, BitSet statuses, boolean onConnectFailure, boolean onReset, boolean onPerTryTimeout,
      long perTryTimeoutNanos, long backoffBaseNanos, long backoffMaxNanos) {
    this.attempts = attempts;
    this.statuses = statuses;
    this.onConnectFailure = onConnectFailure;
    this.onReset = onReset;
    this.onPerTryTimeout = onPerTryTimeout;
    this.perTryTimeoutNanos = perTryTimeoutNanos;
    this.backoffBaseNanos = backoffBaseNanos;
    this.backoffMaxNanos = backoffMaxNanos;
  }

  /** The policy of a TrafficPolicy's {@code retry}. */
  public static RetryPolicy of(Retry retry) {
    BitSet statuses = new BitSet(600);
    boolean connect = false;
    boolean reset = false;
    boolean timeout = false;
    for (String c : retry.retryOn()) {
      switch (c) {
        case "5xx" -> {
          statuses.set(500, 600);
          connect = reset = timeout = true;
        }
        case "gateway-error" -> {
          statuses.set(502, 505);
          connect = reset = timeout = true;
        }
        case "reset" -> connect = reset = timeout = true;
        case "connect-failure" -> connect = true;
        default -> {
          String[] range = c.split("-");
          int low = Integer.parseInt(range[0]);
          int high = range.length == 2 ? Integer.parseInt(range[1]) : low;
          statuses.set(low, high + 1);
        }
      }
    }
    return new RetryPolicy(retry.attempts(), statuses, connect, reset, timeout,
        retry.perTryTimeout() == null ? 0 : retry.perTryTimeout().toNanos(),
        retry.backoffBase().toNanos(), retry.backoffMax().toNanos());
  }

  /** Retries after the first try. */
  public int attempts() {
    return attempts;
  }

  /** The limit of one try in nanoseconds, or 0 for none. */
  public long perTryTimeoutNanos() {
    return perTryTimeoutNanos;
  }

  /** Whether {@code outcome} is one of the policy's conditions. */
  public boolean retryable(Outcome outcome) {
    if (outcome.failure() == null) {
      return statuses.get(outcome.status());
    }
    return switch (outcome.failure()) {
      case CONNECT_FAILURE -> onConnectFailure;
      case RESET -> onReset;
      case PER_TRY_TIMEOUT -> onPerTryTimeout;
    };
  }

  /**
   * Whether to try again after try number {@code tries} (1 for the first) ended with {@code
   * outcome}; {@code replayable} says whether the request's body can be sent again (always true
   * without a body); {@code budget} is withdrawn from only when the answer is yes; {@code random}
   * gives numbers in {@code [0, 1)} for the backoff's jitter.
   */
  public Decision decide(int tries, Outcome outcome, boolean replayable, RetryBudget budget, DoubleSupplier random) {
    if (!retryable(outcome)) {
      return new Decision(Reason.NOT_RETRYABLE, 0);
    }
    if (tries > attempts) {
      return new Decision(Reason.ATTEMPTS_EXHAUSTED, 0);
    }
    if (!replayable) {
      return new Decision(Reason.BODY_NOT_REPLAYABLE, 0);
    }
    if (!budget.tryWithdraw()) {
      return new Decision(Reason.BUDGET_EXHAUSTED, 0);
    }
    return new Decision(Reason.RETRY, backoffNanos(tries, random.getAsDouble()));
  }

  /** The wait before retry {@code n} (1, 2, …) for a uniform {@code u} in {@code [0, 1)}. */
  public long backoffNanos(int n, double u) {
    long factor = (1L << Math.min(Math.max(n, 1), 30)) - 1;
    long ceiling = backoffBaseNanos > backoffMaxNanos / factor ? backoffMaxNanos : backoffBaseNanos * factor;
    return (long) (Math.max(0, Math.min(u, 1)) * ceiling);
  }
}

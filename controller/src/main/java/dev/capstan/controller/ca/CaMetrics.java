package dev.capstan.controller.ca;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;

/**
 * The CA's meters: {@code capstan_ca_requests_total{result="issued|denied",reason}} (reason
 * {@code none} when issued, else a {@link Denial.Reason} label: bounded) and
 * {@code capstan_ca_signing_duration_seconds}. Every series exists from the start, at zero.
 */
public final class CaMetrics {

  private final Counter issued;
  private final Map<Denial.Reason, Counter> denied = new EnumMap<>(Denial.Reason.class);
  private final Timer signing;

  public CaMetrics(MeterRegistry registry) {
    this.issued = Counter.builder("capstan_ca_requests")
        .description("certificate requests answered by the CA")
        .tags("result", "issued", "reason", "none")
        .register(registry);
    for (Denial.Reason reason : Denial.Reason.values()) {
      denied.put(reason, Counter.builder("capstan_ca_requests")
          .description("certificate requests answered by the CA")
          .tags("result", "denied", "reason", reason.label())
          .register(registry));
    }
    this.signing = Timer.builder("capstan_ca_signing_duration")
        .description("time to sign a leaf certificate")
        .register(registry);
  }

  void issued() {
    issued.increment();
  }

  void denied(Denial.Reason reason) {
    denied.get(reason).increment();
  }

  Timer signing() {
    return signing;
  }
}

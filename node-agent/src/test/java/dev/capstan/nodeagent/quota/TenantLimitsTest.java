package dev.capstan.nodeagent.quota;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.nodeagent.quota.TenantLimits.Admission;
import dev.capstan.nodeagent.quota.TenantLimits.Refusal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Connection caps per tenant, with an injected clock. */
class TenantLimitsTest {

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  @Test
  void a_tenant_over_its_open_connection_cap_is_refused_until_one_closes() {
    TenantLimits limits = new TenantLimits(new TenantLimits.Settings(2, 1000, 1000), clock::get);
    Admission first = limits.admit("noisy");
    Admission second = limits.admit("noisy");

    assertThat(limits.admit("noisy").refusal()).contains(Refusal.CONNECTION_LIMIT);
    assertThat(limits.admit("quiet").permit()).as("another tenant is not affected").isPresent();

    first.permit().orElseThrow().release();
    first.permit().orElseThrow().release(); // twice changes nothing
    assertThat(limits.open("noisy")).isEqualTo(1);
    assertThat(limits.admit("noisy").permit()).isPresent();
    assertThat(second.permit()).isPresent();
  }

  @Test
  void new_connections_above_the_rate_are_refused_after_the_burst_and_allowed_as_tokens_return() {
    TenantLimits limits = new TenantLimits(new TenantLimits.Settings(10_000, 10, 5), clock::get);
    List<Admission> burst = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      burst.add(limits.admit("noisy"));
    }
    assertThat(burst).allMatch(a -> a.permit().isPresent());
    assertThat(limits.admit("noisy").refusal()).contains(Refusal.RATE_LIMIT);
    assertThat(limits.admit("quiet").permit()).isPresent();

    clock.addAndGet(100_000_000L); // one token back at 10/s
    assertThat(limits.admit("noisy").permit()).isPresent();
    assertThat(limits.admit("noisy").refusal()).contains(Refusal.RATE_LIMIT);
    // A refused connection does not count as open.
    assertThat(limits.open("noisy")).isEqualTo(6);
  }
}

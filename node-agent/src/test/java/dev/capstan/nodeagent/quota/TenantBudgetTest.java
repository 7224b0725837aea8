package dev.capstan.nodeagent.quota;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.io.BufferAccount;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The budget's rule on plain numbers: a 1,000-byte budget with 250 bytes of give-back room, as a
 * splice would drive it (charge on read, release on write completion); no progress floor unless a
 * test says so.
 */
class TenantBudgetTest {

  private final AtomicLong clock = new AtomicLong();
  private final TenantBudget budget = new TenantBudget(new TenantBudget.Settings(1000, 250, 10_000, 0), clock::get);

  @Test
  void a_lone_tenant_may_hold_the_budget_but_the_give_back_room() {
    BufferAccount a = budget.open(budget.tenant("noisy")).first();

    assertThat(budget.tenant("noisy").share()).isEqualTo(1000);
    assertThat(a.charge(749)).isTrue();
    assertThat(a.charge(1)).isFalse();
    assertThat(budget.tenant("noisy").paused()).isTrue();

    // A tenant that arrives now finds the room free at once.
    BufferAccount late = budget.open(budget.tenant("late")).first();
    assertThat(late.charge(200)).isTrue();
  }

  @Test
  void active_tenants_get_equal_shares_and_a_borrower_stops_at_the_give_back_room() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    assertThat(budget.tenant("noisy").share()).isEqualTo(500);

    // Over its share (borrowing the quiet tenant's idle half) until the node holds 750.
    assertThat(noisy.charge(700)).isTrue();
    assertThat(budget.tenant("noisy").borrowed()).isEqualTo(200);
    assertThat(noisy.charge(100)).isFalse();
    assertThat(noisy.mayRead()).isFalse();

    // The quiet tenant, within its share, still has the give-back room.
    assertThat(quiet.charge(150)).isTrue();
    assertThat(quiet.mayRead()).isTrue();
    assertThat(budget.held()).isEqualTo(950);
  }

  @Test
  void weights_split_the_budget() {
    budget.weight("gold", 3);
    budget.open(budget.tenant("gold")).first();
    budget.open(budget.tenant("bronze")).first();

    assertThat(budget.tenant("gold").share()).isEqualTo(750);
    assertThat(budget.tenant("bronze").share()).isEqualTo(250);
  }

  @Test
  void borrowed_capacity_comes_back_as_the_borrower_drains_and_the_borrower_resumes_below_the_margin() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount quiet = budget.open(budget.tenant("quiet")).first();
    AtomicInteger noisyWakes = new AtomicInteger();
    noisy.onWake(noisyWakes::incrementAndGet);
    noisy.charge(760); // paused: over its share, node above 750
    assertThat(budget.tenant("noisy").paused()).isTrue();

    // The owner takes what it needs up to the budget...
    assertThat(quiet.charge(200)).isTrue();
    // ...and gets more as the borrower's bytes are written out.
    noisy.release(400);
    assertThat(quiet.charge(200)).isTrue();
    assertThat(budget.tenant("quiet").held()).isEqualTo(400);

    // The borrower (now within its share: 360 < 500) resumes once the node is below the budget
    // minus the margin.
    assertThat(noisyWakes.get()).isEqualTo(1);
    assertThat(budget.tenant("noisy").paused()).isFalse();
  }

  @Test
  void a_paused_borrower_wakes_only_below_its_threshold_minus_the_margin() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    budget.open(budget.tenant("quiet")).first();
    AtomicInteger wakes = new AtomicInteger();
    noisy.onWake(wakes::incrementAndGet);
    noisy.charge(760);

    noisy.release(20); // 740: under 750, but not under 750 - margin (62)
    assertThat(wakes.get()).isZero();
    noisy.release(60); // 680
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(noisy.mayRead()).isTrue();
  }

  @Test
  void one_connection_cannot_take_all_of_its_tenants_share() {
    TenantBudget b = new TenantBudget(new TenantBudget.Settings(1000, 250, 100, 0), clock::get);
    TenantBudget.Tenant t = b.tenant("app");
    BufferAccount first = b.open(t).first();
    BufferAccount second = b.open(t).first();
    AtomicInteger wakes = new AtomicInteger();
    first.onWake(wakes::incrementAndGet);

    assertThat(first.charge(100)).isFalse();
    assertThat(t.paused()).isFalse();
    assertThat(second.charge(50)).isTrue();

    first.release(40); // 60 left: not yet under half the window
    assertThat(wakes.get()).isZero();
    first.release(20); // 40
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(first.mayRead()).isTrue();
  }

  @Test
  void closing_a_tenants_last_connection_gives_its_share_back() {
    BufferAccount noisy = budget.open(budget.tenant("noisy")).first();
    BufferAccount.Pair quietConnection = budget.open(budget.tenant("quiet"));
    BufferAccount quiet = quietConnection.first();
    budget.open(budget.tenant("third")).first();
    AtomicInteger wakes = new AtomicInteger();
    noisy.onWake(wakes::incrementAndGet);
    assertThat(noisy.charge(400)).isTrue(); // over its share of 333: borrowing
    quiet.charge(360);
    assertThat(noisy.charge(1)).isFalse(); // the node holds 761: above the borrowers' 750

    quiet.close();
    assertThat(budget.tenant("quiet").connections()).as("one direction still open").isEqualTo(1);
    quietConnection.second().close();

    // Two tenants left: a share of 500, and the noisy tenant is within it again.
    assertThat(budget.tenant("noisy").share()).isEqualTo(500);
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(noisy.mayRead()).isTrue();
  }

  @Test
  void throttled_time_and_pauses_are_counted() {
    BufferAccount a = budget.open(budget.tenant("noisy")).first();
    a.charge(1000);
    assertThat(budget.tenant("noisy").paused()).isTrue();
    clock.addAndGet(2_000_000_000L);
    assertThat(budget.tenant("noisy").throttledNanos()).isEqualTo(2_000_000_000L);

    a.release(1000);
    clock.addAndGet(5_000_000_000L);

    assertThat(budget.tenant("noisy").throttledNanos()).isEqualTo(2_000_000_000L);
    assertThat(budget.tenant("noisy").pauses()).isEqualTo(1);
    assertThat(budget.peak()).isEqualTo(1000);
    assertThat(budget.held()).isZero();
  }

  @Test
  void weights_from_the_mesh_apply_and_a_removed_weight_returns_to_1() {
    budget.open(budget.tenant("gold")).first();
    budget.open(budget.tenant("bronze")).first();

    budget.weights(java.util.Map.of("gold", 4));
    assertThat(budget.tenant("gold").share()).isEqualTo(800);

    budget.weights(java.util.Map.of());
    assertThat(budget.tenant("gold").weight()).isEqualTo(1);
    assertThat(budget.tenant("gold").share()).isEqualTo(500);
  }

  @Test
  void a_direction_under_the_progress_floor_keeps_moving_while_its_tenant_is_paused() {
    TenantBudget b = new TenantBudget(new TenantBudget.Settings(1000, 250, 1000, 50), clock::get);
    BufferAccount.Pair connection = b.open(b.tenant("app"));
    AtomicInteger wakes = new AtomicInteger();
    connection.second().onWake(wakes::incrementAndGet);

    assertThat(connection.first().charge(760)).isFalse(); // the lone tenant is paused
    // The other direction holds nothing: it may still carry a little, so a full-duplex peer that
    // waits for its answer before reading more can make progress.
    assertThat(connection.second().mayRead()).isTrue();
    assertThat(connection.second().charge(40)).isTrue();
    assertThat(connection.second().charge(20)).isFalse();
    assertThat(connection.second().mayRead()).isFalse();

    connection.second().release(60); // written out: under the floor again
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(connection.second().mayRead()).isTrue();
  }

  @Test
  void data_queued_in_hbone_streams_counts_against_the_tenant_and_pauses_its_reads() {
    BufferAccount.Pair connection = budget.open(budget.tenant("noisy"));
    BufferAccount queue = budget.openQueue(budget.tenant("noisy"));
    budget.open(budget.tenant("quiet"));
    AtomicInteger wakes = new AtomicInteger();
    connection.first().onWake(wakes::incrementAndGet);

    // Never refused (the HTTP/2 windows bound it), but counted: the noisy tenant is over its share.
    assertThat(queue.charge(800)).isTrue();
    assertThat(budget.held()).isEqualTo(800);
    assertThat(budget.tenant("noisy").held()).isEqualTo(800);
    assertThat(budget.tenant("noisy").paused()).isTrue();
    assertThat(connection.first().mayRead()).isFalse();

    // The streams read it: released, the tenant resumes and its connection is woken.
    queue.release(800);
    assertThat(budget.held()).isZero();
    assertThat(budget.tenant("noisy").paused()).isFalse();
    assertThat(wakes.get()).isEqualTo(1);
    assertThat(connection.first().mayRead()).isTrue();
  }

  @Test
  void a_queue_is_not_a_connection_and_closing_it_releases_what_it_still_holds() {
    BufferAccount queue = budget.openQueue(budget.tenant("idle"));
    assertThat(budget.tenant("idle").connections()).isZero();

    queue.charge(300);
    queue.close();
    queue.close();

    assertThat(budget.held()).isZero();
    assertThat(budget.tenant("idle").held()).isZero();
    assertThat(budget.peak()).isEqualTo(300);
  }
}

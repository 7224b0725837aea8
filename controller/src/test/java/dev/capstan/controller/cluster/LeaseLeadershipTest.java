package dev.capstan.controller.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.testing.Replicas;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Lease leadership against fabric8's mock API server in CRUD mode (a real fabric8 client over
 * HTTP; no kube-apiserver can be had on this machine, so the mock stands in for it).
 */
@EnableKubernetesMockClient(crud = true, https = false)
class LeaseLeadershipTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  KubernetesClient client;

  @Test
  void one_replica_holds_the_lease_and_the_other_takes_over_when_it_leaves() {
    List<String> events = new CopyOnWriteArrayList<>();
    LeaseLeadership first = new LeaseLeadership(client, "capstan-system", "capstan-controller", "controller-0");
    first.onChange(leader -> events.add("controller-0 " + leader));
    Replicas.eventually(first::isLeader, WAIT, () -> "controller-0 leads");
    LeaseLeadership second = new LeaseLeadership(client, "capstan-system", "capstan-controller", "controller-1");
    second.onChange(leader -> events.add("controller-1 " + leader));
    try {
      Lease lease = client.leases().inNamespace("capstan-system").withName("capstan-controller").get();
      assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("controller-0");
      assertThat(second.isLeader()).isFalse();

      first.close();

      Replicas.eventually(second::isLeader, WAIT, () -> "controller-1 took over: " + events);
      assertThat(client.leases().inNamespace("capstan-system").withName("capstan-controller").get()
          .getSpec().getHolderIdentity()).isEqualTo("controller-1");
      assertThat(events).containsSubsequence("controller-0 true", "controller-1 true");
    } finally {
      second.close();
    }
  }
}

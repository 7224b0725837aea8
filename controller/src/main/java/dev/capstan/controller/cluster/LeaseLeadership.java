package dev.capstan.controller.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership by a Kubernetes Lease ({@code coordination.k8s.io/v1}) through fabric8's leader
 * elector: 15 s lease, renewed every 2 s, given up after 10 s without renewal. The elector runs
 * again after losing, so a replica that lost the lease stands by for the next round.
 */
public final class LeaseLeadership implements Leadership {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseLeadership.class);

  private final LeaderEvents events = new LeaderEvents();
  private final KubernetesClient client;
  private final String namespace;
  private final String leaseName;
  private final String identity;
  private volatile boolean closed;
  private volatile CompletableFuture<?> election;

  public LeaseLeadership(KubernetesClient client, String namespace, String leaseName, String identity) {
    this.client = client;
    this.namespace = namespace;
    this.leaseName = leaseName;
    this.identity = identity;
    run();
  }

  private void run() {
    if (closed) {
      return;
    }
    election = client.leaderElector()
        .withConfig(new LeaderElectionConfigBuilder()
            .withName(leaseName)
            .withLock(new LeaseLock(namespace, leaseName, identity))
            .withLeaseDuration(Duration.ofSeconds(15))
            .withRenewDeadline(Duration.ofSeconds(10))
            .withRetryPeriod(Duration.ofSeconds(2))
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(new LeaderCallbacks(
                () -> events.execute(() -> set(true)),
                () -> events.execute(() -> set(false)),
                holder -> LOG.info("lease {}/{} is held by {}", namespace, leaseName, holder)))
            .build())
        .build()
        .start();
    election.whenComplete((ok, error) -> {
      if (!closed) {
        LOG.warn("leader election for lease {}/{} ended ({}), standing again", namespace, leaseName,
            error == null ? "lost" : error.toString());
        events.execute(() -> set(false));
        events.execute(this::run);
      }
    });
  }

  private void set(boolean now) {
    events.set(now, "lease " + namespace + "/" + leaseName + " as " + identity);
  }

  @Override
  public boolean isLeader() {
    return events.leader();
  }

  @Override
  public void onChange(Consumer<Boolean> listener) {
    events.onChange(listener);
  }

  @Override
  public void close() {
    closed = true;
    CompletableFuture<?> e = election;
    if (e != null) {
      e.cancel(true);
    }
    events.close();
  }
}

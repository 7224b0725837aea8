package dev.capstan.controller.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership by Hazelcast's member order: the oldest member leads. When it dies the next oldest
 * takes over as soon as the cluster notices. Used clusterless; in Kubernetes a Lease decides
 * (Hazelcast's CP subsystem, which would give fenced locks, is not in the open-source edition).
 */
public final class OldestMember implements Leadership {

  private static final Logger LOG = LoggerFactory.getLogger(OldestMember.class);

  private final HazelcastInstance hazelcast;
  private final LeaderEvents events = new LeaderEvents();
  private final UUID registration;

  public OldestMember(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
    this.registration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        events.execute(OldestMember.this::evaluate);
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        events.execute(OldestMember.this::evaluate);
      }
    });
    events.execute(this::evaluate);
  }

  private void evaluate() {
    Member oldest = hazelcast.getCluster().getMembers().iterator().next();
    events.set(oldest.localMember(), "the oldest member is " + oldest.getAddress());
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
    try {
      hazelcast.getCluster().removeMembershipListener(registration);
    } catch (RuntimeException e) {
      LOG.debug("membership listener not removed: {}", e.toString());
    }
    events.close();
  }
}

package dev.capstan.benchmarks;

import com.hazelcast.core.HazelcastInstance;
import dev.capstan.controller.cluster.Members;
import dev.capstan.controller.cluster.OldestMember;
import dev.capstan.controller.publish.Distribution;
import dev.capstan.controller.publish.Publisher;
import dev.capstan.core.model.MeshSnapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The controller as production wires its replicas (embedded member, oldest-member leadership,
 * publisher, distribution), without sources, CA or admin: the benchmark offers snapshots itself.
 * Members listen on free ports of 127.0.0.1.
 */
final class Controller implements AutoCloseable {

  /** One replica. */
  record Replica(int port, HazelcastInstance hazelcast, OldestMember leadership, Distribution distribution) {}

  private final String clusterName = "capstan-bench-" + UUID.randomUUID();
  private final List<Replica> replicas = new ArrayList<>();
  private final List<String> addresses = new ArrayList<>();

  Controller(int members) throws InterruptedException {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      ports.add(freePort());
    }
    ports.forEach(p -> addresses.add("127.0.0.1:" + p));
    for (int i = 0; i < members; i++) {
      Members.Settings settings = new Members.Settings(clusterName, new InetSocketAddress("127.0.0.1", ports.get(i)),
          addresses, Optional.empty());
      HazelcastInstance hz = Members.start(settings, clusterName + "-" + i);
      OldestMember leadership = new OldestMember(hz);
      Publisher publisher = new Publisher(hz, "replica-" + i, Clock.systemUTC(), new SimpleMeterRegistry());
      replicas.add(new Replica(ports.get(i), hz, leadership, new Distribution(publisher, leadership)));
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (replicas.stream().anyMatch(r -> r.hazelcast().getCluster().getMembers().size() != members)
        || replicas.stream().noneMatch(r -> r.leadership().isLeader())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the " + members + " controller replicas did not form a cluster with a leader in 60 s");
      }
      Thread.sleep(50);
    }
  }

  /** Every replica gets the snapshot, as each would from its own source; the leader writes it. */
  void offer(MeshSnapshot snapshot) {
    replicas.forEach(r -> r.distribution().offer(snapshot));
  }

  String clusterName() {
    return clusterName;
  }

  /** {@code 127.0.0.1:port} of every member, what agents are configured with. */
  List<String> addresses() {
    return List.copyOf(addresses);
  }

  List<Integer> ports() {
    return replicas.stream().map(Replica::port).toList();
  }

  Replica leader() {
    return replicas.stream().filter(r -> r.leadership().isLeader()).findFirst()
        .orElseThrow(() -> new IllegalStateException("no leader"));
  }

  /** Clients connected to the members (each client connects to every member). */
  int connectedClients() {
    return replicas.get(0).hazelcast().getClientService().getConnectedClients().size();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (Replica r : replicas) {
      r.distribution().close();
      r.leadership().close();
      r.hazelcast().getLifecycleService().terminate();
    }
  }
}

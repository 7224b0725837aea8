package dev.capstan.controller.testing;

import com.hazelcast.core.HazelcastInstance;
import dev.capstan.controller.cluster.Members;
import dev.capstan.controller.cluster.OldestMember;
import dev.capstan.controller.publish.Distribution;
import dev.capstan.controller.publish.Publisher;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.nodeagent.state.HazelcastMeshView;
import dev.capstan.nodeagent.state.MeshIndex;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Controller replicas (real embedded Hazelcast members with leadership, publisher and
 * distribution, as the controller wires them) and node-agent mesh views (real Hazelcast clients),
 * all in this JVM on 127.0.0.1. Ports are picked free up front so replicas can restart on theirs.
 */
public final class Replicas implements AutoCloseable {

  /** One controller replica. */
  public record Replica(int port, HazelcastInstance hazelcast, OldestMember leadership, Distribution distribution,
      SimpleMeterRegistry registry) {
    /** Entries this replica's publisher wrote (added or changed), over all its publications. */
    public double entriesWritten() {
      return registry.get("capstan_controller_entries_written_total").counter().count();
    }

    public void kill() {
      distribution.close();
      leadership.close();
      hazelcast.getLifecycleService().terminate();
    }
  }

  private final String clusterName = "capstan-test-" + UUID.randomUUID();
  private final List<Integer> ports = new ArrayList<>();
  private final List<Replica> running = new ArrayList<>();
  private final List<HazelcastMeshView> views = new ArrayList<>();

  public Replicas(int count) {
    for (int i = 0; i < count; i++) {
      ports.add(freePort());
    }
  }

  /** Starts the replica on the i-th port (again, after a kill). */
  public Replica start(int i) {
    Members.Settings settings = new Members.Settings(clusterName, new InetSocketAddress("127.0.0.1", ports.get(i)),
        ports.stream().map(p -> "127.0.0.1:" + p).toList(), Optional.empty());
    HazelcastInstance hz = Members.start(settings, clusterName + "-" + i + "-" + UUID.randomUUID());
    OldestMember leadership = new OldestMember(hz);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Publisher publisher = new Publisher(hz, "replica-" + i, Clock.systemUTC(), registry);
    Replica r = new Replica(ports.get(i), hz, leadership, new Distribution(publisher, leadership), registry);
    running.add(r);
    return r;
  }

  /** Every replica gets the snapshot, as each would from its own source. */
  public void offer(MeshSnapshot snapshot) {
    running.stream().filter(r -> r.hazelcast().getLifecycleService().isRunning())
        .forEach(r -> r.distribution().offer(snapshot));
  }

  /** A node agent's view of the mesh. */
  public HazelcastMeshView agent(String name) {
    HazelcastMeshView view = new HazelcastMeshView(
        new AgentConfig.Controller(clusterName, ports.stream().map(p -> "127.0.0.1:" + p).toList()),
        "agent-" + name + "-" + UUID.randomUUID(), Duration.ofMillis(500));
    views.add(view);
    return view;
  }

  public List<Integer> ports() {
    return List.copyOf(ports);
  }

  public String clusterName() {
    return clusterName;
  }

  /** Waits until the view's index satisfies {@code condition}, or fails after {@code timeout}. */
  public static MeshIndex await(HazelcastMeshView view, Predicate<MeshIndex> condition, Duration timeout) {
    eventually(() -> condition.test(view.current()), timeout, () -> "mesh view at " + view.current().version()
        + " with " + view.current().snapshot().workloads().size() + " workloads");
    return view.current();
  }

  /** Polls {@code condition} every 10 ms until true, or fails after {@code timeout}. */
  public static void eventually(BooleanSupplier condition, Duration timeout, java.util.function.Supplier<String> state) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout + ": " + state.get());
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    views.forEach(HazelcastMeshView::close);
    running.forEach(r -> {
      try {
        r.kill();
      } catch (RuntimeException ignored) {
        // already dead
      }
    });
  }
}

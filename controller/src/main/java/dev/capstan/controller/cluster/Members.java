package dev.capstan.controller.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.capstan.core.mesh.MeshMaps;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/** Builds and starts this replica's embedded Hazelcast member. */
public final class Members {

  /**
   * How replicas find each other.
   *
   * @param clusterName Hazelcast cluster name; agents must use the same
   * @param listen address and port this member binds (port 5701 by default; 0 picks a free one)
   * @param members static member list ({@code host:port}) clusterless; empty with Kubernetes
   * @param kubernetesService the headless Service whose endpoints are the replicas, in a cluster
   */
  public record Settings(
      String clusterName, InetSocketAddress listen, List<String> members, Optional<String> kubernetesService) {

    public Settings {
      members = List.copyOf(members);
    }
  }

  private Members() {}

  /** The member's Hazelcast config: discovery, the model's serializers, no phone-home. */
  public static Config config(Settings settings, String instanceName) {
    Config config = new Config();
    config.setInstanceName(instanceName);
    config.setClusterName(settings.clusterName());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // A dead replica is noticed in seconds, not the default minute.
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "6");
    config.getNetworkConfig()
        .setPublicAddress(null)
        .setPort(settings.listen().getPort())
        .setPortAutoIncrement(settings.listen().getPort() == 0);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface(settings.listen().getHostString());
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (settings.kubernetesService().isPresent()) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-name", settings.kubernetesService().get());
    } else {
      join.getTcpIpConfig().setEnabled(true).setMembers(settings.members());
    }
    MeshMaps.register(config.getSerializationConfig().getCompactSerializationConfig());
    return config;
  }

  /** Starts the member (joins the others listed, or forms a cluster alone). */
  public static HazelcastInstance start(Settings settings, String instanceName) {
    return Hazelcast.newHazelcastInstance(config(settings, instanceName));
  }
}

package dev.capstan.cli.status;

import java.util.List;

/**
 * What {@code capstan status} found: the controller replicas asked, the latest config version
 * the leader published, and every agent and waypoint (asked directly, or known only because it is
 * connected to the controller), each with the version it runs.
 *
 * @param latestVersion what the leader published last ({@code <sequence>-<hash>}), or null when no leader was asked
 * @param controllers one per {@code --controller}
 * @param proxies agents and waypoints, by kind then name
 * @param errors one line per endpoint that could not be read
 */
public record StatusReport(String latestVersion, List<Controller> controllers, List<Proxy> proxies, List<String> errors) {

  /**
   * A controller replica, from its {@code /config_dump}.
   *
   * @param leader whether it writes the mesh to Hazelcast
   * @param ready whether its source delivered a mesh and its Hazelcast member runs (null: not reported)
   * @param members the Hazelcast members it sees
   * @param published the version it published last (the leader only)
   * @param clients the Hazelcast clients connected to it: agents, waypoints, redirects
   */
  public record Controller(String name, String admin, boolean leader, Boolean ready, List<String> members, String published,
      List<Client> clients) {}

  /**
   * A Hazelcast client of the controller.
   *
   * @param name its instance name ({@code capstan-agent-<node>}, {@code capstan-waypoint-<namespace>-<id>}, ...)
   * @param kind agent, waypoint, redirect or other
   * @param of the node or namespace its name says it serves
   */
  public record Client(String name, String kind, String of, String address) {}

  /**
   * A node agent or waypoint.
   *
   * @param kind {@code agent} or {@code waypoint}
   * @param name the agent's node, or the waypoint's namespace
   * @param admin the admin endpoint asked, or null when it is known only from the controller's clients
   * @param connected whether the controller sees it as a client (null: no controller reports clients)
   * @param ready whether it is ready to carry traffic (null: not reported)
   * @param version the config version it runs (null: unknown)
   * @param sync SYNCED (runs the latest), STALE (runs another), NO MESH (none loaded), or null when it cannot be told
   */
  public record Proxy(String kind, String name, String admin, Boolean connected, Boolean ready, String version, String sync) {}
}

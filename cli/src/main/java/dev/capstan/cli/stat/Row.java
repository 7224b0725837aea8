package dev.capstan.cli.stat;

/**
 * One line of {@code capstan stat}: a workload (its TCP connections, from the node agents) or a
 * service behind a waypoint (its HTTP requests). Rates are per second over the window; what a row
 * cannot have (latency of a TCP workload, connections of a service) is null.
 *
 * @param kind {@code workload} or {@code service}
 * @param requestsPerSecond HTTP requests (services)
 * @param successPercent requests answered without a 5xx, of all requests in the window (services; null without requests)
 * @param p50Millis median request latency at the waypoint (from its histogram)
 * @param p99Millis 99th percentile request latency at the waypoint
 * @param connectionsPerSecond TCP connections opened (workloads)
 * @param openConnections TCP connections open at the second scrape (workloads)
 * @param bytesInPerSecond bytes into the workload or service (requests); TCP bytes are counted when a connection closes
 * @param bytesOutPerSecond bytes out of it (responses)
 */
public record Row(String namespace, String name, String kind, Double requestsPerSecond, Double successPercent, Double p50Millis,
    Double p99Millis, Double connectionsPerSecond, Long openConnections, double bytesInPerSecond, double bytesOutPerSecond) {}

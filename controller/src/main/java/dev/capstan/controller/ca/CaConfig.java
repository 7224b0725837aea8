package dev.capstan.controller.ca;

import dev.capstan.core.identity.SpiffeId;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The CA's settings. Parsed once at the edge (the controller's YAML); this record only checks
 * that the values fit together.
 *
 * @param trustDomain the mesh's trust domain; CSRs for any other are refused
 * @param namespace the controller's namespace (also where node agents run and where the CA
 *     Secret and root ConfigMap live)
 * @param serviceAccount the controller's service account: the CA server's own SPIFFE ID is
 *     {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}
 * @param host address the CA server binds
 * @param port port the CA server binds (15012; 0 picks a free one)
 * @param serverNames DNS names (or IP literals) put in the server certificate beside its SPIFFE ID
 * @param leafValidity lifetime of a leaf when the request asks for none
 * @param maxLeafValidity longest lifetime a request may get; longer asks are shortened to it
 * @param rootValidity lifetime of a self-made root
 * @param servingValidity lifetime of the CA server's own certificate, renewed at half-life
 * @param tokenAudience the audience node agents' tokens must be bound to (TokenReview)
 * @param nodeAgentServiceAccount the node agents' service account, in {@code namespace}
 */
public record CaConfig(
    String trustDomain,
    String namespace,
    String serviceAccount,
    String host,
    int port,
    List<String> serverNames,
    Duration leafValidity,
    Duration maxLeafValidity,
    Duration rootValidity,
    Duration servingValidity,
    String tokenAudience,
    String nodeAgentServiceAccount) {

  public static final int DEFAULT_PORT = 15012;
  public static final String DEFAULT_AUDIENCE = "capstan-ca";

  public CaConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(tokenAudience, "tokenAudience");
    serverNames = List.copyOf(serverNames);
    // Validates trust domain, namespace and service accounts the way SPIFFE IDs are validated.
    SpiffeId.of(trustDomain, namespace, serviceAccount);
    SpiffeId.of(trustDomain, namespace, nodeAgentServiceAccount);
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("ca port must be 0..65535, not " + port);
    }
    positive("leafValidity", leafValidity);
    positive("maxLeafValidity", maxLeafValidity);
    positive("rootValidity", rootValidity);
    positive("servingValidity", servingValidity);
    if (leafValidity.compareTo(maxLeafValidity) > 0) {
      throw new IllegalArgumentException(
          "ca leafValidity " + leafValidity + " is longer than maxLeafValidity " + maxLeafValidity);
    }
    if (tokenAudience.isBlank()) {
      throw new IllegalArgumentException("ca tokenAudience is empty");
    }
    for (String name : serverNames) {
      if (name.isBlank()) {
        throw new IllegalArgumentException("ca serverNames contains an empty name");
      }
    }
  }

  /**
   * The defaults: trust domain {@code cluster.local}, namespace {@code capstan-system}, controller
   * service account {@code capstan-controller}, node agents' {@code capstan-node-agent}, port
   * 15012 on every address, 24 h leaves (at most 24 h), a 10-year root, a 24 h server
   * certificate, audience {@code capstan-ca}.
   */
  public static CaConfig defaults() {
    return of("cluster.local", "capstan-system");
  }

  /** The defaults for a trust domain and the controller's namespace. */
  public static CaConfig of(String trustDomain, String namespace) {
    return new CaConfig(
        trustDomain,
        namespace,
        "capstan-controller",
        "0.0.0.0",
        DEFAULT_PORT,
        List.of("capstan-controller." + namespace + ".svc", "localhost"),
        Duration.ofHours(24),
        Duration.ofHours(24),
        Duration.ofDays(3650),
        Duration.ofHours(24),
        DEFAULT_AUDIENCE,
        "capstan-node-agent");
  }

  /** The same settings listening elsewhere. */
  public CaConfig withListen(String newHost, int newPort) {
    return new CaConfig(trustDomain, namespace, serviceAccount, newHost, newPort, serverNames, leafValidity,
        maxLeafValidity, rootValidity, servingValidity, tokenAudience, nodeAgentServiceAccount);
  }

  /** The same settings with other leaf lifetimes. */
  public CaConfig withLeafValidity(Duration leaf, Duration max) {
    return new CaConfig(trustDomain, namespace, serviceAccount, host, port, serverNames, leaf, max, rootValidity,
        servingValidity, tokenAudience, nodeAgentServiceAccount);
  }

  /** The CA server's own identity. */
  public SpiffeId serverIdentity() {
    return SpiffeId.of(trustDomain, namespace, serviceAccount);
  }

  /** The Kubernetes user name node agents' tokens must review to. */
  public String nodeAgentUser() {
    return "system:serviceaccount:" + namespace + ":" + nodeAgentServiceAccount;
  }

  private static void positive(String name, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("ca " + name + " must be positive, not " + d);
    }
  }
}

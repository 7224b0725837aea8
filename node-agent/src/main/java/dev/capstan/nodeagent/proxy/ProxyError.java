package dev.capstan.nodeagent.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneException;
import dev.capstan.core.identity.SpiffeId;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Why a connection could not be proxied. Each case maps, in this one place, to a metric reason, an
 * HBONE status (inbound), an HTTP status (explicit proxy) and a log message telling the operator
 * what to look at.
 */
public sealed interface ProxyError {

  /** Metric label. */
  String reason();

  /** Log message. */
  String message();

  /** Status answered to an HBONE CONNECT. */
  default int hboneStatus() {
    return Hbone.SERVICE_UNAVAILABLE;
  }

  /** Status answered to an explicit-proxy CONNECT. */
  default int httpStatus() {
    return 503;
  }

  record UnknownSource(InetAddress source) implements ProxyError {
    public String reason() {
      return "unknown_source";
    }

    public String message() {
      return "refused connection from " + source.getHostAddress()
          + ": no mesh workload has this IP (is the pod enrolled and the mesh config current?)";
    }

    public int httpStatus() {
      return 403;
    }
  }

  record SourceNotLocal(InetAddress source, String workloadNode, String agentNode) implements ProxyError {
    public String reason() {
      return "source_not_local";
    }

    public String message() {
      return "refused connection from " + source.getHostAddress() + ": that workload runs on node " + workloadNode
          + ", this agent serves " + agentNode + " (a pod may only send through its own node's agent)";
    }

    public int httpStatus() {
      return 403;
    }
  }

  record UnknownDestination(String destination) implements ProxyError {
    public String reason() {
      return "unknown_destination";
    }

    public String message() {
      return "no mesh service or workload at " + destination + " (outside the mesh, or the config is not current)";
    }

    public int httpStatus() {
      return 502;
    }
  }

  record NoHealthyEndpoint(String service, int port) implements ProxyError {
    public String reason() {
      return "no_healthy_endpoint";
    }

    public String message() {
      return "service " + service + " port " + port + " has no healthy endpoint";
    }
  }

  record NoCertificate(SpiffeId identity) implements ProxyError {
    public String reason() {
      return "no_certificate";
    }

    public String message() {
      return "no certificate loaded for " + identity + " (check the agent's certificate directory or CA)";
    }
  }

  record TunnelFailed(InetSocketAddress peer, HboneException cause) implements ProxyError {
    public String reason() {
      return cause.kind() == HboneException.Kind.REJECTED ? "tunnel_rejected_" + cause.status() : "tunnel_" + cause.kind().label();
    }

    public String message() {
      return "HBONE tunnel to " + peer + " failed: " + cause.getMessage();
    }

    public int httpStatus() {
      return cause.status() == Hbone.UNAUTHORIZED ? 403 : 502;
    }
  }

  record DestinationNotLocal(InetSocketAddress target, SpiffeId peer) implements ProxyError {
    public String reason() {
      return "destination_not_local";
    }

    public String message() {
      return "refused HBONE from " + peer + ": " + target + " is not a workload of this node";
    }

    public int hboneStatus() {
      return Hbone.BAD_REQUEST;
    }
  }

  record IdentityMismatch(InetSocketAddress target, SpiffeId presented, SpiffeId actual) implements ProxyError {
    public String reason() {
      return "identity_mismatch";
    }

    public String message() {
      return "refused HBONE stream to " + target + ": the connection presented " + presented
          + " but that workload is " + actual;
    }

    public int hboneStatus() {
      return Hbone.BAD_REQUEST;
    }
  }

  record Denied(SpiffeId peer, InetSocketAddress target, String policy) implements ProxyError {
    public String reason() {
      return "denied";
    }

    public String message() {
      return "denied " + peer + " to " + target + " by policy " + policy;
    }

    public int hboneStatus() {
      return Hbone.UNAUTHORIZED;
    }
  }

  record UpstreamUnavailable(InetSocketAddress target, String cause) implements ProxyError {
    public String reason() {
      return "upstream_unavailable";
    }

    public String message() {
      return "workload " + target + " refused the connection: " + cause + " (is the app listening on that port?)";
    }
  }

  record PlaintextDenied(InetSocketAddress source, InetSocketAddress target, String policy) implements ProxyError {
    public String reason() {
      return "plaintext_denied";
    }

    public String message() {
      return "plaintext connection from " + Hbone.authority(source) + " to " + Hbone.authority(target)
          + " refused by policy " + policy + " (the destination requires mutual TLS: is the source pod enrolled in the mesh?)";
    }
  }

  record NotLocalWorkload(InetSocketAddress source, InetSocketAddress target) implements ProxyError {
    public String reason() {
      return "destination_not_local";
    }

    public String message() {
      return "captured connection from " + Hbone.authority(source) + " to " + Hbone.authority(target)
          + ": no workload of this node has that IP (are the redirect rules newer than the agent's mesh view?)";
    }
  }

  record TenantLimited(String tenant, dev.capstan.nodeagent.quota.TenantLimits.Refusal refusal, String peer) implements ProxyError {
    public String reason() {
      return "tenant_" + refusal.label();
    }

    public String message() {
      return "refused connection from " + peer + ": tenant " + tenant
          + (refusal == dev.capstan.nodeagent.quota.TenantLimits.Refusal.CONNECTION_LIMIT
              ? " has as many connections open as allowed (quota.tenantMaxConnections)"
              : " opens new connections faster than allowed (quota.tenantConnectionsPerSecond, tenantConnectionBurst)");
    }
  }
}

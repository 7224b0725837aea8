package dev.capstan.nodeagent.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.io.BufferAccount;
import dev.capstan.core.hbone.HboneStreams;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Dial;
import dev.capstan.core.io.SocketSplice;
import dev.capstan.core.io.Splice;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.authz.Authorizer;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.nodeagent.drain.Drain;
import dev.capstan.nodeagent.metrics.AccessLog;
import dev.capstan.nodeagent.metrics.ConnectionLabels;
import dev.capstan.nodeagent.metrics.ProxyMetrics;
import dev.capstan.nodeagent.quota.TenantBudget;
import dev.capstan.nodeagent.quota.TenantLimits;
import dev.capstan.nodeagent.state.MeshIndex;
import dev.capstan.nodeagent.state.MeshView;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inbound: a CONNECT stream from a verified peer becomes a plain TCP connection to a workload of
 * this node.
 *
 * <ol>
 *   <li>The {@code :authority} IP must be a workload of this node (else 400), whose identity is
 *       the one this connection presented (else 400).
 *   <li>The destination namespace's L4 policies decide (deny wins; else 401).
 *   <li>The workload is dialed on the stream's event loop (refused: 503), then 200 and the splice.
 * </ol>
 */
public final class Inbound implements HboneServer.Acceptor {

  private static final Logger LOG = LoggerFactory.getLogger(Inbound.class);
  private static final String REPORTER = "destination";
  private static final java.util.regex.Pattern POD_NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9.\\-]{0,252}");

  private final AgentConfig config;
  private final MeshView mesh;
  private final Bootstrap upstream;
  private final ProxyMetrics metrics;
  private final AccessLog accessLog;
  private final Drain drain;

  private final TenantBudget quota;
  private final TenantGate gate;

  /**
   * {@code upstream} carries the channel type and socket options for dialing workloads; bytes held
   * are charged to the destination workload's namespace in {@code quota}.
   */
  public Inbound(
      AgentConfig config, MeshView mesh, Bootstrap upstream, TenantBudget quota, TenantLimits limits,
      ProxyMetrics metrics, AccessLog accessLog, Drain drain) {
    this.quota = quota;
    this.gate = new TenantGate(limits, metrics);
    this.config = config;
    this.mesh = mesh;
    this.upstream = upstream;
    this.metrics = metrics;
    this.accessLog = accessLog;
    this.drain = drain;
  }

  /**
   * DATA waiting in a connection's streams is charged to the namespace of the identity it presents:
   * the destination workload's, the tenant every stream on it is charged to.
   */
  @Override
  public BufferAccount queueAccount(SpiffeId local) {
    return quota.openQueue(quota.tenant(local.namespace()));
  }

  @Override
  public void accept(HboneServer.Request request) {
    Instant start = Instant.now();
    Http2StreamChannel stream = request.stream();
    InetSocketAddress target = request.target();
    MeshIndex index = mesh.current();
    Optional<Workload> dst = index.localWorkload(target.getAddress(), config.node());
    if (dst.isEmpty()) {
      refuse(request, new ProxyError.DestinationNotLocal(target, request.peer()));
      return;
    }
    SpiffeId dstId = MeshIndex.identity(config.trustDomain(), dst.get());
    if (!dstId.equals(request.local())) {
      refuse(request, new ProxyError.IdentityMismatch(target, request.local(), dstId));
      return;
    }
    Authorizer.Decision decision = Authorizer.check(index.policies(dst.get().namespace()), dst.get(), request.peer(), target.getPort());
    if (!decision.allowed()) {
      refuse(request, new ProxyError.Denied(request.peer(), target, decision.policy()));
      return;
    }
    // The destination tenant's connection caps.
    Optional<ProxyError.TenantLimited> limited = gate.admit(dst.get().namespace(), stream, Hbone.authority(request.peerAddress()));
    if (limited.isPresent()) {
      refuse(request, limited.get());
      return;
    }
    ConnectionLabels labels = new ConnectionLabels(
        REPORTER,
        sourceWorkload(request),
        request.peer().namespace(),
        request.peer().uri(),
        dst.get().name(),
        dst.get().namespace(),
        dstId.uri(),
        "unknown");
    drain.proxied(stream);
    Optional<InetSocketAddress> from = preservedSource(request, index, dst.get());
    Dial.connect(stream.eventLoop(), upstream.clone().group(stream.eventLoop()), target, from.orElse(null)).addListener(f -> {
      if (!f.isSuccess()) {
        refuse(request, new ProxyError.UpstreamUnavailable(target, String.valueOf(f.cause().getMessage())));
        return;
      }
      Channel workload = (Channel) f.getNow();
      if (!stream.isActive()) {
        workload.close();
        return;
      }
      metrics.connectionOpened(labels);
      HboneStreams.accept(stream);
      Splice.start(workload, stream, quota.open(quota.tenant(dst.get().namespace())), result -> {
        Duration duration = Duration.between(start, Instant.now());
        metrics.connectionClosed(labels, result.fromStream(), result.fromSocket(), duration);
        accessLog.log(new AccessLog.Entry(labels, Hbone.authority(request.peerAddress()), Hbone.authority(target),
            start, duration, result.fromStream(), result.fromSocket(), result.aborted() ? "aborted" : "ok"));
      });
    });
  }

  /**
   * Capture mode: the workload sees the source pod's address, as without a mesh. The source agent
   * names it in {@code Forwarded}; it is believed only when that address is a workload whose
   * identity is the one this connection verified (so a peer can claim only its own pods), and
   * then the agent binds its connection to it transparently (replies come back through the
   * redirect's policy routing). Otherwise the workload sees the node's address.
   */
  private Optional<InetSocketAddress> preservedSource(HboneServer.Request request, MeshIndex index, Workload dst) {
    if (config.capture().isEmpty()) {
      return Optional.empty();
    }
    return trustedForwarded(index, dst, request.peer(), request.peerAddress().getAddress(),
        request.headers().get(Hbone.FORWARDED), config.trustDomain())
        .map(claimed -> new InetSocketAddress(claimed.getAddress(), 0));
  }

  /**
   * The client a tunnel's {@code Forwarded: for=} names, when it may be believed: a source agent
   * may only name a pod of the identity it proved (D17); a waypoint of the destination — its
   * identity, connecting from that waypoint pod's own address — may name any client, since it
   * terminates the client's connection (DESIGN "A connection's path"). Anyone else's is ignored.
   */
  static Optional<InetSocketAddress> trustedForwarded(
      MeshIndex index, Workload dst, SpiffeId peer, java.net.InetAddress peerIp, CharSequence forwarded, String trustDomain) {
    Optional<InetSocketAddress> claimed = Hbone.parseForwardedFor(forwarded);
    if (claimed.isEmpty()) {
      return Optional.empty();
    }
    if (index.isWaypointOf(dst, peer, peerIp, trustDomain)) {
      return claimed;
    }
    return claimed.filter(c -> index.workloadByIp(c.getAddress())
        .map(w -> MeshIndex.identity(trustDomain, w).equals(peer))
        .orElse(false));
  }

  /**
   * Plaintext inbound (capture mode, 15006): a connection from outside the mesh to a workload of
   * this node, TPROXYed here with its original destination as local address. It has no identity:
   * the destination's policies decide as for a source without one (a policy that requires mutual
   * TLS refuses it), then the workload is dialed from the client's address and the bytes spliced. Runs on the connection's
   * event loop; the connection has auto-read off.
   */
  public void acceptPlaintext(Channel downstream) {
    Instant start = Instant.now();
    InetSocketAddress source = (InetSocketAddress) downstream.remoteAddress();
    InetSocketAddress target = (InetSocketAddress) downstream.localAddress();
    MeshIndex index = mesh.current();
    Optional<Workload> dst = index.localWorkload(target.getAddress(), config.node());
    if (dst.isEmpty()) {
      refusePlaintext(downstream, new ProxyError.NotLocalWorkload(source, target));
      return;
    }
    Authorizer.Decision decision = Authorizer.checkPlaintext(index.policies(dst.get().namespace()), dst.get(), target.getPort());
    if (!decision.allowed()) {
      refusePlaintext(downstream, new ProxyError.PlaintextDenied(source, target, decision.policy()));
      return;
    }
    Optional<ProxyError.TenantLimited> limited = gate.admit(dst.get().namespace(), downstream, Hbone.authority(source));
    if (limited.isPresent()) {
      refusePlaintext(downstream, limited.get());
      return;
    }
    ConnectionLabels labels = new ConnectionLabels(
        REPORTER, "unknown", "unknown", "unknown",
        dst.get().name(), dst.get().namespace(), MeshIndex.identity(config.trustDomain(), dst.get()).uri(), "unknown").plaintext();
    drain.proxied(downstream);
    // The workload sees the client's own address, as without a mesh (a transparent bind).
    Dial.connect(downstream.eventLoop(), upstream.clone().group(downstream.eventLoop()), target,
        new InetSocketAddress(source.getAddress(), 0)).addListener(f -> {
      if (!f.isSuccess()) {
        refusePlaintext(downstream, new ProxyError.UpstreamUnavailable(target, String.valueOf(f.cause().getMessage())));
        return;
      }
      Channel workload = (Channel) f.getNow();
      if (!downstream.isActive()) {
        workload.close();
        return;
      }
      metrics.connectionOpened(labels);
      SocketSplice.start(downstream, workload, quota.open(quota.tenant(dst.get().namespace())), result -> {
        Duration duration = Duration.between(start, Instant.now());
        metrics.connectionClosed(labels, result.fromFirst(), result.fromSecond(), duration);
        accessLog.log(new AccessLog.Entry(labels, Hbone.authority(source), Hbone.authority(target),
            start, duration, result.fromFirst(), result.fromSecond(), result.aborted() ? "aborted" : "ok"));
      });
    });
  }

  private void refusePlaintext(Channel downstream, ProxyError error) {
    metrics.connectionFailed(REPORTER, error.reason());
    LOG.warn("inbound plaintext: {}", error.message());
    downstream.close();
  }

  /**
   * The source pod's name from {@code baggage}, believed only when its namespace is the verified
   * peer's (the name is informational; the identity is what was verified).
   */
  private static String sourceWorkload(HboneServer.Request request) {
    CharSequence baggage = request.headers().get(Hbone.BAGGAGE);
    if (baggage == null || baggage.length() > 1024) {
      return "unknown";
    }
    String namespace = null;
    String pod = null;
    for (String item : baggage.toString().split(",")) {
      int eq = item.indexOf('=');
      if (eq > 0) {
        String k = item.substring(0, eq).trim();
        String v = item.substring(eq + 1).trim();
        if (k.equals("k8s.namespace.name")) {
          namespace = v;
        } else if (k.equals("k8s.pod.name")) {
          pod = v;
        }
      }
    }
    return pod != null && request.peer().namespace().equals(namespace) && POD_NAME.matcher(pod).matches()
        ? pod : "unknown";
  }

  @Override
  public void refused(HboneServer.Refusal refusal) {
    metrics.hboneRefused(refusal.reason());
    LOG.warn("inbound HBONE from {} refused ({}): {}", refusal.peerAddress(), refusal.reason(), refusal.detail());
  }

  private void refuse(HboneServer.Request request, ProxyError error) {
    metrics.connectionFailed(REPORTER, error.reason());
    LOG.warn("inbound from {} ({}): {} -> {}", request.peerAddress(), request.peer(), error.message(), error.hboneStatus());
    HboneStreams.refuse(request.stream(), error.hboneStatus());
  }
}

package dev.capstan.nodeagent.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneException;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Dial;
import dev.capstan.core.io.SocketSplice;
import dev.capstan.core.io.Splice;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.authz.Authorizer;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.nodeagent.drain.Drain;
import dev.capstan.nodeagent.identity.Identities;
import dev.capstan.nodeagent.metrics.AccessLog;
import dev.capstan.nodeagent.metrics.ConnectionLabels;
import dev.capstan.nodeagent.metrics.ProxyMetrics;
import dev.capstan.nodeagent.quota.TenantBudget;
import dev.capstan.nodeagent.quota.TenantLimits;
import dev.capstan.nodeagent.state.MeshIndex;
import dev.capstan.nodeagent.state.MeshIndex.Target;
import dev.capstan.nodeagent.state.MeshView;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outbound: a connection from a pod of this node, with the destination it wanted, becomes an HBONE
 * tunnel to the destination's node agent.
 *
 * <ol>
 *   <li>Source: the workload whose IP is the connection's source address, which must run on this
 *       node. Never anything the app says.
 *   <li>Destination: a service VIP:port (or a service named by a fixed upstream) resolves to a
 *       healthy endpoint, round robin; a workload IP is taken as is; anything else is refused. A
 *       service with a waypoint resolves to one of the waypoint's pods instead, and CONNECT names
 *       the service's VIP:port (unless the source is that waypoint: one pass at most).
 *   <li>Tunnel: a CONNECT stream {@code :authority = endpoint ip:port} on a pooled HBONE
 *       connection, as the source's identity, to a peer that must prove the destination's identity.
 *   <li>Splice: bytes both ways until both sides close; then accounting and the access log.
 * </ol>
 */
public final class Outbound {

  private static final Logger LOG = LoggerFactory.getLogger(Outbound.class);
  private static final String REPORTER = "source";

  /** Where a captured connection wants to go. */
  public sealed interface Destination {
    /** An address: a service VIP:port or a workload IP:port (original destination). */
    record Address(InetSocketAddress address) implements Destination {}

    /** A service by {@code namespace/name} and port (fixed upstream listeners, CONNECT by name). */
    record ServiceName(String service, int port) implements Destination {}
  }

  /** How the listener that accepted the connection learns the outcome before bytes flow. */
  public interface Handshake {
    /** The tunnel is open; called before the splice starts (e.g. to answer an HTTP CONNECT). */
    void established(Channel downstream, Http2StreamChannel stream);

    /** The connection cannot be proxied; the listener answers if its protocol can, then closes. */
    void failed(Channel downstream, ProxyError error);
  }

  private final AgentConfig config;
  private final MeshView mesh;
  private final Identities identities;
  private final Pool pool;
  private final ProxyMetrics metrics;
  private final AccessLog accessLog;
  private final Drain drain;
  private final Bootstrap direct;
  private final TenantBudget quota;
  private final TenantGate gate;

  /**
   * {@code direct} dials workloads of this node and destinations outside the mesh (capture mode);
   * bytes held are charged to the source workload's namespace in {@code quota}.
   */
  public Outbound(
      AgentConfig config, MeshView mesh, Identities identities, Pool pool, Bootstrap direct, TenantBudget quota,
      TenantLimits limits, ProxyMetrics metrics, AccessLog accessLog, Drain drain) {
    this.quota = quota;
    this.gate = new TenantGate(limits, metrics);
    this.config = config;
    this.mesh = mesh;
    this.identities = identities;
    this.pool = pool;
    this.direct = direct;
    this.metrics = metrics;
    this.accessLog = accessLog;
    this.drain = drain;
  }

  /**
   * Proxies {@code downstream} (active, auto-read off) to {@code destination}. Runs on the
   * downstream's event loop.
   */
  public void proxy(Channel downstream, Destination destination, Handshake handshake) {
    Instant start = Instant.now();
    InetSocketAddress source = (InetSocketAddress) downstream.remoteAddress();
    MeshIndex index = mesh.current();

    Optional<Workload> src = index.workloadByIp(source.getAddress());
    if (src.isEmpty()) {
      fail(downstream, handshake, new ProxyError.UnknownSource(source.getAddress()));
      return;
    }
    if (!src.get().node().equals(config.node())) {
      fail(downstream, handshake, new ProxyError.SourceNotLocal(source.getAddress(), src.get().node(), config.node()));
      return;
    }
    // The source tenant's connection caps.
    Optional<ProxyError.TenantLimited> limited = gate.admit(src.get().namespace(), downstream, Hbone.authority(source));
    if (limited.isPresent()) {
      fail(downstream, handshake, limited.get());
      return;
    }
    Resolved resolved = resolve(index, destination, src.get(), config.hbonePort());
    if (resolved instanceof Resolved.Failed failed) {
      if (config.capture().isPresent() && failed.error() instanceof ProxyError.UnknownDestination
          && destination instanceof Destination.Address address) {
        // Captured traffic to a destination outside the mesh goes there unchanged (plaintext).
        passthrough(downstream, src.get(), address.address(), start);
        return;
      }
      fail(downstream, handshake, failed.error());
      return;
    }
    Target target = ((Resolved.Ok) resolved).target();
    // Through a waypoint, CONNECT names the service (VIP:port) and the waypoint picks the endpoint.
    Optional<InetSocketAddress> waypointFor = ((Resolved.Ok) resolved).waypointFor();
    InetSocketAddress authority = waypointFor.orElse(target.address());
    SpiffeId srcId = MeshIndex.identity(config.trustDomain(), src.get());
    SpiffeId dstId = MeshIndex.identity(config.trustDomain(), target.workload());
    Optional<Identities.Entry> cert = identities.get(srcId);
    if (cert.isEmpty()) {
      fail(downstream, handshake, new ProxyError.NoCertificate(srcId));
      return;
    }

    ConnectionLabels labels = new ConnectionLabels(
        REPORTER, src.get().name(), src.get().namespace(), srcId.uri(),
        target.workload().name(), target.workload().namespace(), dstId.uri(),
        target.service().map(s -> s.name() + "." + s.namespace()).orElse("unknown"));
    if (config.capture().isPresent() && target.workload().node().equals(config.node()) && waypointFor.isEmpty()) {
      // A workload of this node: no tunnel, the agent is both ends (the kernel would not capture
      // the agent's own connection to a local pod's HBONE port).
      deliverLocally(downstream, handshake, index, src.get(), srcId, target, labels, start);
      return;
    }
    InetSocketAddress hbonePeer = new InetSocketAddress(target.address().getAddress(), config.hbonePort());
    Pool.Key key = new Pool.Key(srcId, dstId, target.workload().node());
    drain.proxied(downstream);
    Map<String, String> headers =
        Map.of(Hbone.BAGGAGE.toString(), baggage(src.get()), Hbone.FORWARDED.toString(), Hbone.forwardedFor(source));
    tunnel(downstream, key, cert.get().client(), hbonePeer, Hbone.authority(authority), headers, true, f -> {
          if (!f.isSuccess()) {
            HboneException cause = f.cause() instanceof HboneException h
                ? h : new HboneException(HboneException.Kind.STREAM_FAILED, String.valueOf(f.cause()));
            fail(downstream, handshake, new ProxyError.TunnelFailed(hbonePeer, cause));
            return;
          }
          Http2StreamChannel stream = f.getNow();
          if (!downstream.isActive()) {
            stream.close();
            return;
          }
          metrics.connectionOpened(labels);
          handshake.established(downstream, stream);
          Splice.start(downstream, stream, quota.open(quota.tenant(src.get().namespace())), result -> {
            Duration duration = Duration.between(start, Instant.now());
            metrics.connectionClosed(labels, result.fromSocket(), result.fromStream(), duration);
            accessLog.log(new AccessLog.Entry(labels, Hbone.authority(source), Hbone.authority(target.address()),
                start, duration, result.fromSocket(), result.fromStream(), result.aborted() ? "aborted" : "ok"));
          });
        });
  }

  /**
   * Opens the tunnel's stream. A stream that failed before any answer (its connection was closing:
   * the peer agent restarting, a GOAWAY crossing our CONNECT) carried no byte of the client's, so
   * it is tried once more, on a new connection if need be.
   */
  private void tunnel(
      Channel downstream, Pool.Key key, io.netty.handler.ssl.SslContext tls, InetSocketAddress peer, String authority,
      Map<String, String> headers, boolean retry, Consumer<io.netty.util.concurrent.Future<Http2StreamChannel>> done) {
    pool.stream(downstream.eventLoop(), key, tls, peer, authority, headers).addListener(f -> {
      @SuppressWarnings("unchecked")
      io.netty.util.concurrent.Future<Http2StreamChannel> result = (io.netty.util.concurrent.Future<Http2StreamChannel>) f;
      if (!result.isSuccess() && retry && downstream.isActive()
          && result.cause() instanceof HboneException h && h.kind() == HboneException.Kind.STREAM_FAILED) {
        LOG.debug("HBONE stream to {} failed before an answer ({}), trying once more", peer, h.getMessage());
        tunnel(downstream, key, tls, peer, authority, headers, false, done);
        return;
      }
      done.accept(result);
    });
  }

  /**
   * Same-node delivery: the destination's policies are applied to the source's identity (known
   * here without a handshake), then the workload is dialed and both sockets spliced. Reported
   * once as source and once as destination, as a tunnel through two agents would be.
   */
  private void deliverLocally(
      Channel downstream, Handshake handshake, MeshIndex index, Workload src, SpiffeId srcId, Target target,
      ConnectionLabels labels, Instant start) {
    Workload dst = target.workload();
    Authorizer.Decision decision = Authorizer.check(index.policies(dst.namespace()), dst, srcId, target.address().getPort());
    if (!decision.allowed()) {
      fail(downstream, handshake, new ProxyError.Denied(srcId, target.address(), decision.policy()));
      return;
    }
    ConnectionLabels inbound = new ConnectionLabels("destination", labels.sourceWorkload(), labels.sourceNamespace(),
        labels.sourcePrincipal(), labels.destinationWorkload(), labels.destinationNamespace(), labels.destinationPrincipal(),
        labels.destinationService());
    InetSocketAddress source = (InetSocketAddress) downstream.remoteAddress();
    drain.proxied(downstream);
    // The workload sees the source pod's own address (both are local: replies come back here).
    dial(downstream, target.address(), Optional.of(new InetSocketAddress(source.getAddress(), 0)), handshake, upstream -> {
      metrics.connectionOpened(labels);
      metrics.connectionOpened(inbound);
      SocketSplice.start(downstream, upstream, quota.open(quota.tenant(src.namespace())), result -> {
        Duration duration = Duration.between(start, Instant.now());
        metrics.connectionClosed(labels, result.fromFirst(), result.fromSecond(), duration);
        metrics.connectionClosed(inbound, result.fromFirst(), result.fromSecond(), duration);
        accessLog.log(new AccessLog.Entry(labels, Hbone.authority(source), Hbone.authority(target.address()),
            start, duration, result.fromFirst(), result.fromSecond(), result.aborted() ? "aborted" : "ok"));
      });
    });
  }

  /** A destination outside the mesh: dialed directly, plaintext, accounted with an unknown destination. */
  private void passthrough(Channel downstream, Workload src, InetSocketAddress address, Instant start) {
    SpiffeId srcId = MeshIndex.identity(config.trustDomain(), src);
    ConnectionLabels labels = new ConnectionLabels(
        REPORTER, src.name(), src.namespace(), srcId.uri(), "unknown", "unknown", "unknown", "unknown").plaintext();
    InetSocketAddress source = (InetSocketAddress) downstream.remoteAddress();
    drain.proxied(downstream);
    dial(downstream, address, Optional.empty(), Listeners.CLOSE_ON_FAILURE, upstream -> {
      metrics.connectionOpened(labels);
      SocketSplice.start(downstream, upstream, quota.open(quota.tenant(src.namespace())), result -> {
        Duration duration = Duration.between(start, Instant.now());
        metrics.connectionClosed(labels, result.fromFirst(), result.fromSecond(), duration);
        accessLog.log(new AccessLog.Entry(labels, Hbone.authority(source), Hbone.authority(address),
            start, duration, result.fromFirst(), result.fromSecond(), result.aborted() ? "passthrough aborted" : "passthrough"));
      });
    });
  }

  /**
   * Dials {@code address} on the downstream's event loop, from {@code from} when given (a
   * transparent bind); the upstream is handed over active with auto-read off.
   */
  private void dial(
      Channel downstream, InetSocketAddress address, Optional<InetSocketAddress> from, Handshake handshake, Consumer<Channel> connected) {
    Dial.connect(downstream.eventLoop(), direct.clone().group(downstream.eventLoop()), address, from.orElse(null)).addListener(f -> {
      if (!f.isSuccess()) {
        fail(downstream, handshake, new ProxyError.UpstreamUnavailable(address, String.valueOf(f.cause().getMessage())));
        return;
      }
      Channel upstream = (Channel) f.getNow();
      if (!downstream.isActive()) {
        upstream.close();
        return;
      }
      connected.accept(upstream);
    });
  }

  private sealed interface Resolved {
    /** Tunnel to {@code target}; via a waypoint, {@code waypointFor} is the service address CONNECT names. */
    record Ok(Target target, Optional<InetSocketAddress> waypointFor) implements Resolved {
      Ok(Target target) {
        this(target, Optional.empty());
      }
    }

    record Failed(ProxyError error) implements Resolved {}
  }

  private static Resolved resolve(MeshIndex index, Destination destination, Workload source, int hbonePort) {
    if (destination instanceof Destination.ServiceName byName) {
      return index.service(byName.service())
          .map(s -> toService(index, s, byName.port(), null, source, hbonePort))
          .orElse(new Resolved.Failed(new ProxyError.UnknownDestination("service " + byName.service())));
    }
    InetSocketAddress address = ((Destination.Address) destination).address();
    Optional<Service> service = index.serviceByVip(address);
    if (service.isPresent()) {
      return toService(index, service.get(), address.getPort(), address, source, hbonePort);
    }
    Optional<Workload> workload = index.workloadByIp(address.getAddress());
    if (workload.isPresent()) {
      return new Resolved.Ok(new Target(workload.get(), address, Optional.empty()));
    }
    return new Resolved.Failed(new ProxyError.UnknownDestination(Hbone.authority(address)));
  }

  /**
   * A service: one of its endpoints, or, when it has a waypoint, one of the waypoint's pods (on the
   * HBONE port) with the service's address for CONNECT. The waypoint's own connections go straight
   * to the endpoints: traffic passes a waypoint at most once.
   */
  private static Resolved toService(
      MeshIndex index, Service service, int port, InetSocketAddress dialed, Workload source, int hbonePort) {
    if (service.waypoint() == null) {
      return pick(index, service, port);
    }
    Optional<Service> waypoint = index.service(service.waypoint());
    if (waypoint.isEmpty()) {
      return new Resolved.Failed(new ProxyError.UnknownDestination(
          "waypoint " + service.waypoint() + " of service " + service.key() + " (no such service in the mesh)"));
    }
    if (waypoint.get().endpoints().stream().anyMatch(e -> e.workloadUid().equals(source.uid()))) {
      return pick(index, service, port);
    }
    if (service.port(port).isEmpty()) {
      return new Resolved.Failed(new ProxyError.NoHealthyEndpoint(service.key(), port));
    }
    InetSocketAddress serviceAddress = dialed;
    if (serviceAddress == null) {
      if (service.vips().isEmpty()) {
        return new Resolved.Failed(new ProxyError.UnknownDestination(
            "service " + service.key() + " has a waypoint but no VIP to name it by"));
      }
      serviceAddress = new InetSocketAddress(Hbone.literalIp(service.vips().get(0)).orElseThrow(), port);
    }
    InetSocketAddress named = serviceAddress;
    return index.pick(waypoint.get(), hbonePort)
        .<Resolved>map(t -> new Resolved.Ok(t, Optional.of(named)))
        .orElse(new Resolved.Failed(new ProxyError.NoHealthyEndpoint(service.waypoint(), hbonePort)));
  }

  private static Resolved pick(MeshIndex index, Service service, int port) {
    return index.pick(service, port)
        .<Resolved>map(Resolved.Ok::new)
        .orElse(new Resolved.Failed(new ProxyError.NoHealthyEndpoint(service.key(), port)));
  }

  private static String baggage(Workload w) {
    return "k8s.namespace.name=" + w.namespace() + ",k8s.pod.name=" + w.name() + ",service.name=" + w.name();
  }

  private void fail(Channel downstream, Handshake handshake, ProxyError error) {
    metrics.connectionFailed(REPORTER, error.reason());
    LOG.warn("outbound {}: {}", downstream.remoteAddress(), error.message());
    handshake.failed(downstream, error);
  }
}

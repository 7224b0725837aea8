package dev.capstan.waypoint.proxy;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.waypoint.state.WaypointView;
import java.net.InetSocketAddress;
import dev.capstan.waypoint.resilience.ResolvedPolicy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntUnaryOperator;

/**
 * A backend service port's healthy endpoints as one view has them, with everything a request
 * needs to reach one (addresses, the node agent's HBONE address, the identity to expect) built
 * once per view version rather than per request. Immutable; shared by all event loops.
 *
 * @param targets endpoints with an address, in the view's order
 * @param uids their workload uids, in the same order (what pickers and outlier detection see)
 */
record Endpoints(List<Target> targets, List<String> uids) {

  /**
   * One endpoint.
   *
   * @param uid workload uid
   * @param address where the application listens (target port)
   * @param agent its node agent's HBONE address
   * @param identity the SPIFFE ID its agent presents for it
   * @param authority {@code address} as {@code ip:port}, for telemetry
   */
  record Target(String uid, InetSocketAddress address, InetSocketAddress agent, SpiffeId identity, String authority) {}

  private static final Endpoints NONE = new Endpoints(List.of(), List.of());

  /** The endpoint with this uid (one of {@link #uids}). */
  Target target(String uid) {
    return targets.get(uids.indexOf(uid));
  }

  /**
   * An endpoint by {@code policy}'s picker (P2C over peak EWMA latency by default), or null when
   * there is none. Ejected endpoints are left out (all used if all are out); endpoints in {@code
   * tried} are left out too while others remain (a retry prefers one not tried yet).
   */
  Target pick(ResolvedPolicy policy, IntUnaryOperator random, Collection<String> tried) {
    if (uids.isEmpty()) {
      return null;
    }
    List<String> in = policy.outliers().map(o -> o.available(uids)).orElse(uids);
    if (!tried.isEmpty() && in.size() > 1) {
      List<String> fresh = in.stream().filter(uid -> !tried.contains(uid)).toList();
      in = fresh.isEmpty() ? in : fresh;
    }
    int i = policy.picker().pick(in, random);
    return in == uids ? targets.get(i) : target(in.get(i));
  }

  private static Endpoints of(WaypointView view, String serviceKey, int port, Inbound.Settings settings) {
    Optional<Service> svc = view.service(serviceKey);
    if (svc.isEmpty()) {
      return NONE;
    }
    int targetPort = port;
    for (ServicePort p : svc.get().ports()) {
      if (p.port() == port) {
        targetPort = p.targetPort();
        break;
      }
    }
    List<Target> targets = new ArrayList<>();
    for (Endpoint e : svc.get().endpoints()) {
      if (!e.healthy()) {
        continue;
      }
      Optional<Workload> w = view.workload(e.workloadUid()).filter(x -> !x.ips().isEmpty());
      if (w.isPresent()) {
        String ip = w.get().ips().get(0);
        InetSocketAddress address = new InetSocketAddress(ip, targetPort);
        targets.add(new Target(w.get().uid(), address, new InetSocketAddress(ip, settings.hbonePort()),
            new SpiffeId(settings.trustDomain(), w.get().namespace(), w.get().serviceAccount()), Hbone.authority(address)));
      }
    }
    return targets.isEmpty() ? NONE : new Endpoints(List.copyOf(targets), targets.stream().map(Target::uid).toList());
  }

  /** Endpoints per backend, for the current view only: a new view starts an empty cache. */
  static final class Cache {
    private record Key(String service, int port) {}

    private record Snapshot(WaypointView view, Map<Key, Endpoints> byBackend) {}

    private final Inbound.Settings settings;
    private volatile Snapshot snapshot = new Snapshot(null, Map.of());

    Cache(Inbound.Settings settings) {
      this.settings = settings;
    }

    Endpoints get(WaypointView view, String service, int port) {
      Snapshot s = snapshot;
      if (s.view() != view) {
        s = new Snapshot(view, new ConcurrentHashMap<>());
        snapshot = s; // a racing loop may replace it again: both hold the same view's endpoints
      }
      return s.byBackend().computeIfAbsent(new Key(service, port), k -> of(view, k.service(), k.port(), settings));
    }
  }
}

package dev.capstan.core.mesh;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.Waypoint;
import dev.capstan.core.model.Workload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compact serializers of the model records, written by hand: no reflection, maps as two parallel
 * arrays, lists of records as parallel primitive arrays where that is smaller.
 */
final class MeshSerializers {

  private MeshSerializers() {}

  static final class WorkloadSerializer implements CompactSerializer<Workload> {
    @Override
    public Workload read(CompactReader in) {
      return new Workload(in.readString("uid"), in.readString("name"), in.readString("namespace"),
          in.readString("serviceAccount"), list(in.readArrayOfString("ips")), in.readString("node"),
          map(in.readArrayOfString("labelKeys"), in.readArrayOfString("labelValues")), in.readString("waypoint"));
    }

    @Override
    public void write(CompactWriter out, Workload w) {
      out.writeString("uid", w.uid());
      out.writeString("name", w.name());
      out.writeString("namespace", w.namespace());
      out.writeString("serviceAccount", w.serviceAccount());
      out.writeArrayOfString("ips", w.ips().toArray(new String[0]));
      out.writeString("node", w.node());
      out.writeArrayOfString("labelKeys", w.labels().keySet().toArray(new String[0]));
      out.writeArrayOfString("labelValues", w.labels().values().toArray(new String[0]));
      out.writeString("waypoint", w.waypoint());
    }

    @Override
    public String getTypeName() {
      return "capstan.Workload";
    }

    @Override
    public Class<Workload> getCompactClass() {
      return Workload.class;
    }
  }

  static final class ServiceSerializer implements CompactSerializer<Service> {
    @Override
    public Service read(CompactReader in) {
      String[] portNames = in.readArrayOfString("portNames");
      int[] ports = in.readArrayOfInt32("ports");
      int[] targetPorts = in.readArrayOfInt32("targetPorts");
      List<ServicePort> servicePorts = new ArrayList<>(ports.length);
      for (int i = 0; i < ports.length; i++) {
        servicePorts.add(new ServicePort(portNames[i], ports[i], targetPorts[i]));
      }
      String[] uids = in.readArrayOfString("endpointUids");
      boolean[] healthy = in.readArrayOfBoolean("endpointHealthy");
      List<Endpoint> endpoints = new ArrayList<>(uids.length);
      for (int i = 0; i < uids.length; i++) {
        endpoints.add(new Endpoint(uids[i], healthy[i]));
      }
      return new Service(in.readString("namespace"), in.readString("name"), list(in.readArrayOfString("vips")),
          servicePorts, endpoints, in.readString("waypoint"));
    }

    @Override
    public void write(CompactWriter out, Service s) {
      out.writeString("namespace", s.namespace());
      out.writeString("name", s.name());
      out.writeArrayOfString("vips", s.vips().toArray(new String[0]));
      out.writeArrayOfString("portNames", s.ports().stream().map(ServicePort::name).toArray(String[]::new));
      out.writeArrayOfInt32("ports", s.ports().stream().mapToInt(ServicePort::port).toArray());
      out.writeArrayOfInt32("targetPorts", s.ports().stream().mapToInt(ServicePort::targetPort).toArray());
      out.writeArrayOfString("endpointUids", s.endpoints().stream().map(Endpoint::workloadUid).toArray(String[]::new));
      boolean[] healthy = new boolean[s.endpoints().size()];
      for (int i = 0; i < healthy.length; i++) {
        healthy[i] = s.endpoints().get(i).healthy();
      }
      out.writeArrayOfBoolean("endpointHealthy", healthy);
      out.writeString("waypoint", s.waypoint());
    }

    @Override
    public String getTypeName() {
      return "capstan.Service";
    }

    @Override
    public Class<Service> getCompactClass() {
      return Service.class;
    }
  }

  /**
   * L7 fields were added later (Compact schema evolution): a rule written without them reads with
   * none. Headers are flattened into two parallel arrays, one entry per (name, value pattern).
   */
  static final class RuleSerializer implements CompactSerializer<PolicyRule> {
    @Override
    public PolicyRule read(CompactReader in) {
      List<String> paths = optionalStrings(in, "paths");
      List<String> methods = optionalStrings(in, "methods");
      List<String> headerNames = optionalStrings(in, "headerNames");
      List<String> headerValues = optionalStrings(in, "headerValues");
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (int i = 0; i < Math.min(headerNames.size(), headerValues.size()); i++) {
        headers.computeIfAbsent(headerNames.get(i), k -> new ArrayList<>()).add(headerValues.get(i));
      }
      return new PolicyRule(list(in.readArrayOfString("principals")), list(in.readArrayOfString("namespaces")),
          Arrays.stream(in.readArrayOfInt32("ports")).boxed().toList(), paths, methods, headers);
    }

    @Override
    public void write(CompactWriter out, PolicyRule r) {
      out.writeArrayOfString("principals", r.principals().toArray(new String[0]));
      out.writeArrayOfString("namespaces", r.namespaces().toArray(new String[0]));
      out.writeArrayOfInt32("ports", r.ports().stream().mapToInt(Integer::intValue).toArray());
      out.writeArrayOfString("paths", r.paths().toArray(new String[0]));
      out.writeArrayOfString("methods", r.methods().toArray(new String[0]));
      List<String> names = new ArrayList<>();
      List<String> values = new ArrayList<>();
      r.headers().forEach((name, patterns) -> patterns.forEach(v -> {
        names.add(name);
        values.add(v);
      }));
      out.writeArrayOfString("headerNames", names.toArray(new String[0]));
      out.writeArrayOfString("headerValues", values.toArray(new String[0]));
    }

    @Override
    public String getTypeName() {
      return "capstan.PolicyRule";
    }

    @Override
    public Class<PolicyRule> getCompactClass() {
      return PolicyRule.class;
    }
  }

  static final class PolicySerializer implements CompactSerializer<AuthorizationPolicy> {
    @Override
    public AuthorizationPolicy read(CompactReader in) {
      // targets were added later: a policy written without them is selector-bound.
      return new AuthorizationPolicy(in.readString("namespace"), in.readString("name"),
          map(in.readArrayOfString("selectorKeys"), in.readArrayOfString("selectorValues")),
          PolicyAction.valueOf(in.readString("action")),
          Arrays.asList(in.readArrayOfCompact("rules", PolicyRule.class)), optionalStrings(in, "targets"));
    }

    @Override
    public void write(CompactWriter out, AuthorizationPolicy p) {
      out.writeString("namespace", p.namespace());
      out.writeString("name", p.name());
      out.writeArrayOfString("selectorKeys", p.selector().keySet().toArray(new String[0]));
      out.writeArrayOfString("selectorValues", p.selector().values().toArray(new String[0]));
      out.writeString("action", p.action().name());
      out.writeArrayOfCompact("rules", p.rules().toArray(new PolicyRule[0]));
      out.writeArrayOfString("targets", p.targets().toArray(new String[0]));
    }

    @Override
    public String getTypeName() {
      return "capstan.AuthorizationPolicy";
    }

    @Override
    public Class<AuthorizationPolicy> getCompactClass() {
      return AuthorizationPolicy.class;
    }
  }

  static final class NamespacePoliciesSerializer implements CompactSerializer<NamespacePolicies> {
    @Override
    public NamespacePolicies read(CompactReader in) {
      // Written before weights existed: weight 1.
      int weight = in.getFieldKind("bufferWeight") == com.hazelcast.nio.serialization.FieldKind.INT32
          ? in.readInt32("bufferWeight") : 1;
      return new NamespacePolicies(in.readString("namespace"),
          Arrays.asList(in.readArrayOfCompact("policies", AuthorizationPolicy.class)), Math.max(1, weight));
    }

    @Override
    public void write(CompactWriter out, NamespacePolicies p) {
      out.writeString("namespace", p.namespace());
      out.writeArrayOfCompact("policies", p.policies().toArray(new AuthorizationPolicy[0]));
      out.writeInt32("bufferWeight", p.bufferWeight());
    }

    @Override
    public String getTypeName() {
      return "capstan.NamespacePolicies";
    }

    @Override
    public Class<NamespacePolicies> getCompactClass() {
      return NamespacePolicies.class;
    }
  }

  static final class VersionSerializer implements CompactSerializer<MeshVersion> {
    @Override
    public MeshVersion read(CompactReader in) {
      return new MeshVersion(in.readInt64("sequence"), in.readString("hash"), in.readInt64("publishedAtMillis"),
          in.readString("publisher"), new MeshVersion.Counts(
              in.readInt32("workloadEntries"), in.readInt32("serviceEntries"), in.readInt32("policyEntries"),
              optionalInt(in, "waypointEntries"), optionalInt(in, "routeEntries"), optionalInt(in, "trafficPolicyEntries")));
    }

    @Override
    public void write(CompactWriter out, MeshVersion v) {
      out.writeInt64("sequence", v.sequence());
      out.writeString("hash", v.hash());
      out.writeInt64("publishedAtMillis", v.publishedAtMillis());
      out.writeString("publisher", v.publisher());
      out.writeInt32("workloadEntries", v.entries().workloads());
      out.writeInt32("serviceEntries", v.entries().services());
      out.writeInt32("policyEntries", v.entries().policies());
      out.writeInt32("waypointEntries", v.entries().waypoints());
      out.writeInt32("routeEntries", v.entries().routes());
      out.writeInt32("trafficPolicyEntries", v.entries().trafficPolicies());
    }

    @Override
    public String getTypeName() {
      return "capstan.MeshVersion";
    }

    @Override
    public Class<MeshVersion> getCompactClass() {
      return MeshVersion.class;
    }
  }

  /** A string array field that older writers did not write: empty when absent. */
  private static List<String> optionalStrings(CompactReader in, String field) {
    return in.getFieldKind(field) == com.hazelcast.nio.serialization.FieldKind.ARRAY_OF_STRING
        ? list(in.readArrayOfString(field)) : List.of();
  }

  /**
   * A TrafficPolicy, flattened: each optional part is a {@code has*} flag and its fields (written
   * with neutral values when absent, as Compact's fixed schema wants); durations in nanoseconds.
   */
  static final class TrafficPolicySerializer implements CompactSerializer<TrafficPolicy> {
    @Override
    public TrafficPolicy read(CompactReader in) {
      TrafficPolicy.Retry retry = null;
      if (in.readBoolean("hasRetry")) {
        long perTry = in.readInt64("retryPerTryTimeoutNanos");
        retry = new TrafficPolicy.Retry(in.readInt32("retryAttempts"), list(in.readArrayOfString("retryOn")),
            perTry > 0 ? Duration.ofNanos(perTry) : null, Duration.ofNanos(in.readInt64("retryBackoffBaseNanos")),
            Duration.ofNanos(in.readInt64("retryBackoffMaxNanos")), new TrafficPolicy.Budget(
                in.readFloat64("budgetPercent"), in.readInt32("budgetMinPerSecond"), Duration.ofNanos(in.readInt64("budgetTtlNanos"))));
      }
      TrafficPolicy.Outlier outlier = !in.readBoolean("hasOutlier") ? null : new TrafficPolicy.Outlier(
          in.readInt32("outlierConsecutive5xx"), Duration.ofNanos(in.readInt64("outlierBaseEjectionNanos")),
          Duration.ofNanos(in.readInt64("outlierMaxEjectionNanos")), in.readInt32("outlierMaxEjectionPercent"));
      TrafficPolicy.Limits limits = !in.readBoolean("hasLimits") ? null
          : new TrafficPolicy.Limits(in.readInt32("maxConcurrentRequests"));
      TrafficPolicy.RateLimit rate = !in.readBoolean("hasRateLimit") ? null : new TrafficPolicy.RateLimit(
          in.readInt32("rateTokens"), in.readInt32("rateTokensPerFill"), Duration.ofNanos(in.readInt64("rateFillIntervalNanos")));
      TrafficPolicy.Delay delay = !in.readBoolean("hasDelay") ? null
          : new TrafficPolicy.Delay(in.readFloat64("delayPercent"), Duration.ofNanos(in.readInt64("delayNanos")));
      TrafficPolicy.Abort abort = !in.readBoolean("hasAbort") ? null
          : new TrafficPolicy.Abort(in.readFloat64("abortPercent"), in.readInt32("abortStatus"));
      return new TrafficPolicy(in.readString("namespace"), in.readString("name"), in.readInt64("createdAt"),
          list(in.readArrayOfString("targets")), java.util.Optional.ofNullable(retry), java.util.Optional.ofNullable(outlier),
          java.util.Optional.ofNullable(limits), java.util.Optional.ofNullable(rate),
          delay == null && abort == null ? java.util.Optional.empty()
              : java.util.Optional.of(new TrafficPolicy.Faults(delay, abort)),
          TrafficPolicy.LoadBalancer.valueOf(in.readString("loadBalancer")));
    }

    @Override
    public void write(CompactWriter out, TrafficPolicy p) {
      out.writeString("namespace", p.namespace());
      out.writeString("name", p.name());
      out.writeInt64("createdAt", p.createdAt());
      out.writeArrayOfString("targets", p.targets().toArray(new String[0]));
      out.writeString("loadBalancer", p.loadBalancer().name());
      TrafficPolicy.Retry r = p.retry().orElse(null);
      out.writeBoolean("hasRetry", r != null);
      out.writeInt32("retryAttempts", r == null ? 0 : r.attempts());
      out.writeArrayOfString("retryOn", r == null ? new String[0] : r.retryOn().toArray(new String[0]));
      out.writeInt64("retryPerTryTimeoutNanos", r == null || r.perTryTimeout() == null ? 0 : r.perTryTimeout().toNanos());
      out.writeInt64("retryBackoffBaseNanos", r == null ? 0 : r.backoffBase().toNanos());
      out.writeInt64("retryBackoffMaxNanos", r == null ? 0 : r.backoffMax().toNanos());
      out.writeFloat64("budgetPercent", r == null ? 0 : r.budget().percent());
      out.writeInt32("budgetMinPerSecond", r == null ? 0 : r.budget().minPerSecond());
      out.writeInt64("budgetTtlNanos", r == null ? 0 : r.budget().ttl().toNanos());
      TrafficPolicy.Outlier o = p.outlier().orElse(null);
      out.writeBoolean("hasOutlier", o != null);
      out.writeInt32("outlierConsecutive5xx", o == null ? 0 : o.consecutive5xx());
      out.writeInt64("outlierBaseEjectionNanos", o == null ? 0 : o.baseEjectionTime().toNanos());
      out.writeInt64("outlierMaxEjectionNanos", o == null ? 0 : o.maxEjectionTime().toNanos());
      out.writeInt32("outlierMaxEjectionPercent", o == null ? 0 : o.maxEjectionPercent());
      out.writeBoolean("hasLimits", p.limits().isPresent());
      out.writeInt32("maxConcurrentRequests", p.limits().map(TrafficPolicy.Limits::maxConcurrentRequests).orElse(0));
      TrafficPolicy.RateLimit l = p.rateLimit().orElse(null);
      out.writeBoolean("hasRateLimit", l != null);
      out.writeInt32("rateTokens", l == null ? 0 : l.tokens());
      out.writeInt32("rateTokensPerFill", l == null ? 0 : l.tokensPerFill());
      out.writeInt64("rateFillIntervalNanos", l == null ? 0 : l.fillInterval().toNanos());
      TrafficPolicy.Delay d = p.faults().map(TrafficPolicy.Faults::delay).orElse(null);
      out.writeBoolean("hasDelay", d != null);
      out.writeFloat64("delayPercent", d == null ? 0 : d.percent());
      out.writeInt64("delayNanos", d == null ? 0 : d.duration().toNanos());
      TrafficPolicy.Abort a = p.faults().map(TrafficPolicy.Faults::abort).orElse(null);
      out.writeBoolean("hasAbort", a != null);
      out.writeFloat64("abortPercent", a == null ? 0 : a.percent());
      out.writeInt32("abortStatus", a == null ? 0 : a.httpStatus());
    }

    @Override
    public String getTypeName() {
      return "capstan.TrafficPolicy";
    }

    @Override
    public Class<TrafficPolicy> getCompactClass() {
      return TrafficPolicy.class;
    }
  }

  static final class WaypointSerializer implements CompactSerializer<Waypoint> {
    @Override
    public Waypoint read(CompactReader in) {
      return new Waypoint(in.readString("namespace"), in.readString("name"), in.readString("serviceAccount"),
          in.readInt32("replicas"), new Waypoint.Compute(
              map(in.readArrayOfString("requestKeys"), in.readArrayOfString("requestValues")),
              map(in.readArrayOfString("limitKeys"), in.readArrayOfString("limitValues"))),
          Waypoint.TrafficType.of(in.readString("trafficType")).orElse(Waypoint.TrafficType.NONE));
    }

    @Override
    public void write(CompactWriter out, Waypoint w) {
      out.writeString("namespace", w.namespace());
      out.writeString("name", w.name());
      out.writeString("serviceAccount", w.serviceAccount());
      out.writeInt32("replicas", w.replicas());
      out.writeArrayOfString("requestKeys", w.resources().requests().keySet().toArray(new String[0]));
      out.writeArrayOfString("requestValues", w.resources().requests().values().toArray(new String[0]));
      out.writeArrayOfString("limitKeys", w.resources().limits().keySet().toArray(new String[0]));
      out.writeArrayOfString("limitValues", w.resources().limits().values().toArray(new String[0]));
      out.writeString("trafficType", w.trafficType().value());
    }

    @Override
    public String getTypeName() {
      return "capstan.Waypoint";
    }

    @Override
    public Class<Waypoint> getCompactClass() {
      return Waypoint.class;
    }
  }

  static final class RouteSerializer implements CompactSerializer<RouteManifest> {
    @Override
    public RouteManifest read(CompactReader in) {
      return new RouteManifest(in.readString("kind"), in.readString("namespace"), in.readString("name"),
          in.readString("manifest"));
    }

    @Override
    public void write(CompactWriter out, RouteManifest r) {
      out.writeString("kind", r.kind());
      out.writeString("namespace", r.namespace());
      out.writeString("name", r.name());
      out.writeString("manifest", r.manifest());
    }

    @Override
    public String getTypeName() {
      return "capstan.RouteManifest";
    }

    @Override
    public Class<RouteManifest> getCompactClass() {
      return RouteManifest.class;
    }
  }

  /** A field added later: 0 in values written before it existed. */
  private static int optionalInt(CompactReader in, String field) {
    return in.getFieldKind(field) == com.hazelcast.nio.serialization.FieldKind.INT32 ? in.readInt32(field) : 0;
  }

  private static List<String> list(String[] values) {
    return values == null ? List.of() : Arrays.asList(values);
  }

  private static Map<String, String> map(String[] keys, String[] values) {
    Map<String, String> map = new LinkedHashMap<>();
    if (keys != null) {
      for (int i = 0; i < keys.length; i++) {
        map.put(keys[i], values[i]);
      }
    }
    return map;
  }
}

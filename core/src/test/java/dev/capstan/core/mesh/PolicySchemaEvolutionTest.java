package dev.capstan.core.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleListener;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.TrafficPolicy;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Policies with L7 fields and targets through a real Hazelcast member, and Compact schema
 * evolution both ways: what an agent built before the fields existed wrote is read with none, and
 * such an agent still reads what the new controller writes (its L4 fields).
 */
class PolicySchemaEvolutionTest {

  private static HazelcastInstance member;
  private static HazelcastInstance current;
  private static HazelcastInstance old;

  private static final PolicyRule L7_RULE = new PolicyRule(List.of("spiffe://cluster.local/ns/shop/sa/web"), List.of("shop"),
      List.of(8080), List.of("/api/*", "/health"), List.of("GET", "HEAD"),
      Map.of("x-tenant", List.of("gold", "silver*"), "x-debug", List.of("*")));

  @BeforeAll
  static void cluster() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String name = "evolution-" + UUID.randomUUID();
    Config config = new Config();
    config.setClusterName(name);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(List.of("127.0.0.1:" + port));
    member = Hazelcast.newHazelcastInstance(config);

    LifecycleListener ignore = event -> { };
    ClientConfig now = MeshMaps.clientConfig("evolution-current", name, List.of("127.0.0.1:" + port), ignore);
    now.getConnectionStrategyConfig().setAsyncStart(false);
    current = HazelcastClient.newHazelcastClient(now);

    ClientConfig before = new ClientConfig();
    before.setInstanceName("evolution-old");
    before.setClusterName(name);
    before.setProperty("hazelcast.logging.type", "slf4j");
    before.getNetworkConfig().setAddresses(List.of("127.0.0.1:" + port));
    before.getSerializationConfig().getCompactSerializationConfig()
        .addSerializer(new OldRuleSerializer()).addSerializer(new OldPolicySerializer());
    old = HazelcastClient.newHazelcastClient(before);
  }

  @AfterAll
  static void shutdown() {
    for (HazelcastInstance h : new HazelcastInstance[] {old, current, member}) {
      if (h != null) {
        h.shutdown();
      }
    }
  }

  @Test
  void l7_fields_and_targets_survive_the_round_trip() {
    AuthorizationPolicy policy = new AuthorizationPolicy("shop", "api", Map.of(), PolicyAction.ALLOW, List.of(L7_RULE),
        List.of("reviews", "ratings"));
    current.getMap("evolution.roundtrip").put("shop/api", policy);

    AuthorizationPolicy read = (AuthorizationPolicy) current.getMap("evolution.roundtrip").get("shop/api");
    assertThat(read).isEqualTo(policy);
    assertThat(read.rules().get(0).headers()).containsEntry("x-tenant", List.of("gold", "silver*"));
  }

  @Test
  void traffic_policies_survive_the_round_trip_with_and_without_their_parts() {
    TrafficPolicy full = dev.capstan.core.policy.TrafficPolicyManifest.parse("""
        apiVersion: capstan.dev/v1alpha1
        kind: TrafficPolicy
        metadata: {name: reviews, namespace: shop, creationTimestamp: "2026-11-22T10:00:00Z"}
        spec:
          targetRefs: [{kind: Service, name: reviews}]
          retry: {attempts: 3, retryOn: [5xx, "429"], perTryTimeout: 250ms, budget: {percent: 12.5, minRetriesPerSecond: 2, ttl: 5s}}
          outlierDetection: {consecutive5xx: 0}
          limits: {maxConcurrentRequests: 9}
          rateLimit: {tokens: 4, tokensPerFill: 2, fillInterval: 100ms}
          faultInjection: {delay: {percent: 0.5, fixedDelay: 1s}, abort: {percent: 1, httpStatus: 503}}
          loadBalancer: ROUND_ROBIN
        """, "t.yaml");
    TrafficPolicy empty = new TrafficPolicy("shop", "wide", 0, List.of(), null, null, null, null, null, null);
    current.getMap(MeshMaps.TRAFFIC_POLICIES).put(full.key(), full);
    current.getMap(MeshMaps.TRAFFIC_POLICIES).put(empty.key(), empty);

    assertThat(current.getMap(MeshMaps.TRAFFIC_POLICIES).get(full.key())).isEqualTo(full);
    assertThat(current.getMap(MeshMaps.TRAFFIC_POLICIES).get(empty.key())).isEqualTo(empty);
  }

  @Test
  void a_policy_written_before_l7_fields_existed_reads_with_none() {
    AuthorizationPolicy l4 = new AuthorizationPolicy("shop", "l4", Map.of("app", "db"), PolicyAction.DENY,
        List.of(new PolicyRule(List.of("*"), List.of("legacy"), List.of(5432))));
    old.getMap("evolution.old").put("shop/l4", l4);

    AuthorizationPolicy read = (AuthorizationPolicy) current.getMap("evolution.old").get("shop/l4");
    assertThat(read).isEqualTo(l4);
    assertThat(read.targeted()).isFalse();
    assertThat(read.rules().get(0).hasL7()).isFalse();
  }

  @Test
  void an_agent_built_before_l7_fields_still_reads_the_new_entries() {
    AuthorizationPolicy policy = new AuthorizationPolicy("shop", "mixed", Map.of(), PolicyAction.ALLOW, List.of(L7_RULE));
    current.getMap("evolution.new").put("shop/mixed", policy);

    AuthorizationPolicy read = (AuthorizationPolicy) old.getMap("evolution.new").get("shop/mixed");
    assertThat(read.rules()).containsExactly(L7_RULE.l4());
  }

  /** PolicyRule as it was serialized before L7 fields. */
  static final class OldRuleSerializer implements CompactSerializer<PolicyRule> {
    @Override
    public PolicyRule read(CompactReader in) {
      return new PolicyRule(Arrays.asList(in.readArrayOfString("principals")), Arrays.asList(in.readArrayOfString("namespaces")),
          Arrays.stream(in.readArrayOfInt32("ports")).boxed().toList());
    }

    @Override
    public void write(CompactWriter out, PolicyRule r) {
      out.writeArrayOfString("principals", r.principals().toArray(new String[0]));
      out.writeArrayOfString("namespaces", r.namespaces().toArray(new String[0]));
      out.writeArrayOfInt32("ports", r.ports().stream().mapToInt(Integer::intValue).toArray());
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

  /** AuthorizationPolicy as it was serialized before targets. */
  static final class OldPolicySerializer implements CompactSerializer<AuthorizationPolicy> {
    @Override
    public AuthorizationPolicy read(CompactReader in) {
      String[] keys = in.readArrayOfString("selectorKeys");
      String[] values = in.readArrayOfString("selectorValues");
      Map<String, String> selector = new java.util.LinkedHashMap<>();
      for (int i = 0; i < keys.length; i++) {
        selector.put(keys[i], values[i]);
      }
      return new AuthorizationPolicy(in.readString("namespace"), in.readString("name"), selector,
          PolicyAction.valueOf(in.readString("action")), Arrays.asList(in.readArrayOfCompact("rules", PolicyRule.class)));
    }

    @Override
    public void write(CompactWriter out, AuthorizationPolicy p) {
      out.writeString("namespace", p.namespace());
      out.writeString("name", p.name());
      out.writeArrayOfString("selectorKeys", p.selector().keySet().toArray(new String[0]));
      out.writeArrayOfString("selectorValues", p.selector().values().toArray(new String[0]));
      out.writeString("action", p.action().name());
      out.writeArrayOfCompact("rules", p.rules().toArray(new PolicyRule[0]));
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
}

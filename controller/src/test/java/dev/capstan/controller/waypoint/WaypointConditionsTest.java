package dev.capstan.controller.waypoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Named.named;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.controller.source.crd.WaypointStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The status a Waypoint calls for, from its spec, namespace, Deployment and Service. */
class WaypointConditionsTest {

  private static final Instant NOW = Instant.parse("2026-11-22T10:15:30.250Z");
  private static final String UID = "3f1c0e2a-waypoint";

  private static WaypointResource waypoint(String name, WaypointSpec spec) {
    WaypointResource w = new WaypointResource();
    w.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName(name).withUid(UID).withGeneration(3L).build());
    w.setSpec(spec);
    return w;
  }

  private static WaypointResource waypoint() {
    return waypoint("waypoint", new WaypointSpec(null, null, null, null));
  }

  private static Deployment deployment(int replicas, Integer ready, String owner) {
    return new DeploymentBuilder()
        .withMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("waypoint")
            .withOwnerReferences(new OwnerReferenceBuilder().withUid(owner).withKind("Waypoint").withName("waypoint").build())
            .build())
        .withNewSpec().withReplicas(replicas).endSpec()
        .withNewStatus().withReadyReplicas(ready).endStatus()
        .build();
  }

  private static Service service(String clusterIp, String owner) {
    return new ServiceBuilder()
        .withMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("waypoint")
            .withOwnerReferences(new OwnerReferenceBuilder().withUid(owner).withKind("Waypoint").withName("waypoint").build())
            .build())
        .withNewSpec().withClusterIP(clusterIp).endSpec()
        .build();
  }

  private static final Optional<Deployment> READY = Optional.of(deployment(2, 1, UID));
  private static final Optional<Service> SERVICE = Optional.of(service("10.96.0.30", UID));

  private static WaypointStatus.Condition condition(WaypointStatus status, String type) {
    return status.conditions().stream().filter(c -> c.type().equals(type)).findFirst().orElseThrow();
  }

  static Stream<Arguments> cases() {
    WaypointSpec defaults = new WaypointSpec(null, null, null, null);
    return Stream.of(
        arguments(named("ready replicas and a Service with an address: accepted and programmed",
            new WaypointConditions.Inputs(waypoint(), true, READY, SERVICE, true)),
            "True", "Accepted", "True", "Programmed", "has ready replicas behind Service shop/waypoint"),
        arguments(named("no Deployment yet: pending",
            new WaypointConditions.Inputs(waypoint(), true, Optional.empty(), SERVICE, true)),
            "True", "Accepted", "False", "Pending", "Deployment shop/waypoint does not exist yet"),
        arguments(named("no ready replica: pending, with the count",
            new WaypointConditions.Inputs(waypoint(), true, Optional.of(deployment(2, null, UID)), SERVICE, true)),
            "True", "Accepted", "False", "Pending", "has no ready replica (0 of 2)"),
        arguments(named("no Service yet: no address",
            new WaypointConditions.Inputs(waypoint(), true, READY, Optional.empty(), true)),
            "True", "Accepted", "False", "AddressNotAssigned", "Service shop/waypoint does not exist yet"),
        arguments(named("a Service without a cluster IP: no address",
            new WaypointConditions.Inputs(waypoint(), true, READY, Optional.of(service("None", UID)), true)),
            "True", "Accepted", "False", "AddressNotAssigned", "has no cluster IP"),
        arguments(named("someone else's Deployment of that name does not count",
            new WaypointConditions.Inputs(waypoint(), true, Optional.of(deployment(1, 1, "someone-else")), SERVICE, true)),
            "True", "Accepted", "False", "NotOwned", "is not owned by this Waypoint"),
        arguments(named("ownership is not asked when the controller deploys no waypoint",
            new WaypointConditions.Inputs(waypoint(), true, Optional.of(deployment(1, 1, "operator")),
                Optional.of(service("10.96.0.30", "operator")), false)),
            "True", "Accepted", "True", "Programmed", "has ready replicas"),
        arguments(named("0 replicas asked: no resources",
            new WaypointConditions.Inputs(waypoint("waypoint", new WaypointSpec(0, null, null, null)), true, READY, SERVICE,
                true)),
            "True", "Accepted", "False", "NoResources", "spec.replicas is 0"),
        arguments(named("trafficType workload is not carried yet: unsupported",
            new WaypointConditions.Inputs(waypoint("waypoint", new WaypointSpec(null, null, "workload", null)), true, READY,
                SERVICE, true)),
            "False", "UnsupportedTrafficType", "True", "Programmed", "has ready replicas"),
        arguments(named("trafficType all is accepted, saying its workload half is not built",
            new WaypointConditions.Inputs(waypoint("waypoint", new WaypointSpec(null, null, "all", null)), true, READY,
                SERVICE, true)),
            "True", "Accepted", "True", "Programmed", "has ready replicas"),
        arguments(named("an unknown trafficType: invalid, naming the field, and not run",
            new WaypointConditions.Inputs(waypoint("waypoint", new WaypointSpec(null, null, "sometimes", null)), true,
                READY, SERVICE, true)),
            "False", "Invalid", "False", "Invalid", "not run: the Waypoint is not accepted"),
        arguments(named("replicas out of range: invalid",
            new WaypointConditions.Inputs(waypoint("waypoint", new WaypointSpec(500, null, null, null)), true, READY,
                SERVICE, true)),
            "False", "Invalid", "False", "Invalid", "not run"),
        arguments(named("a namespace outside the mesh: not accepted, not run",
            new WaypointConditions.Inputs(waypoint("waypoint", defaults), false, READY, SERVICE, true)),
            "False", "NamespaceNotEnrolled", "False", "Invalid", "not run"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void conditions_follow_the_spec_the_namespace_the_deployment_and_the_service(WaypointConditions.Inputs in,
      String accepted, String acceptedReason, String programmed, String programmedReason, String programmedMessage) {
    WaypointStatus status = WaypointConditions.of(in, Optional.empty(), NOW);

    assertThat(status.conditions()).extracting(WaypointStatus.Condition::type).containsExactly("Accepted", "Programmed");
    assertThat(condition(status, "Accepted")).satisfies(c -> {
      assertThat(c.status()).isEqualTo(accepted);
      assertThat(c.reason()).isEqualTo(acceptedReason);
    });
    assertThat(condition(status, "Programmed")).satisfies(c -> {
      assertThat(c.status()).isEqualTo(programmed);
      assertThat(c.reason()).isEqualTo(programmedReason);
      assertThat(c.message()).contains(programmedMessage);
    });
    assertThat(status.observedGeneration()).isEqualTo(3L);
    assertThat(status.conditions()).allSatisfy(c -> {
      assertThat(c.observedGeneration()).isEqualTo(3L);
      assertThat(c.lastTransitionTime()).isEqualTo("2026-11-22T10:15:30Z");
    });
  }

  @Test
  void messages_say_what_is_wrong_and_what_to_do() {
    WaypointStatus invalid = WaypointConditions.of(new WaypointConditions.Inputs(
        waypoint("waypoint", new WaypointSpec(500, null, "sometimes", null)), true, READY, SERVICE, true), Optional.empty(), NOW);
    WaypointStatus workload = WaypointConditions.of(new WaypointConditions.Inputs(
        waypoint("waypoint", new WaypointSpec(null, null, "workload", null)), true, READY, SERVICE, true), Optional.empty(), NOW);
    WaypointStatus outside = WaypointConditions.of(new WaypointConditions.Inputs(waypoint(), false, READY, SERVICE, true),
        Optional.empty(), NOW);

    assertThat(condition(invalid, "Accepted").message())
        .contains("spec.trafficType: 'sometimes' is not one of service, workload, all, none")
        .contains("spec.replicas: 500 is not between 0 and 100");
    assertThat(condition(workload, "Accepted").message()).contains("use service or all");
    assertThat(condition(outside, "Accepted").message()).contains("namespace shop", "capstan.dev/mesh=enabled");
  }

  @Test
  void the_address_is_the_services_cluster_ip_once_it_has_one() {
    WaypointStatus programmed = WaypointConditions.of(new WaypointConditions.Inputs(waypoint(), true, READY, SERVICE, true),
        Optional.empty(), NOW);
    WaypointStatus pending = WaypointConditions.of(new WaypointConditions.Inputs(waypoint(), true, Optional.empty(),
        SERVICE, true), Optional.empty(), NOW);
    WaypointStatus noService = WaypointConditions.of(new WaypointConditions.Inputs(waypoint(), true, READY,
        Optional.empty(), true), Optional.empty(), NOW);

    assertThat(programmed.addresses()).containsExactly(new WaypointStatus.Address("IPAddress", "10.96.0.30"));
    assertThat(pending.addresses()).as("the Service has its address before the pods are ready")
        .containsExactly(new WaypointStatus.Address("IPAddress", "10.96.0.30"));
    assertThat(noService.addresses()).isNull();
  }

  @Test
  void a_condition_keeps_its_transition_time_until_its_status_changes() {
    WaypointConditions.Inputs pendingInputs = new WaypointConditions.Inputs(waypoint(), true,
        Optional.of(deployment(1, 0, UID)), SERVICE, true);
    WaypointStatus first = WaypointConditions.of(pendingInputs, Optional.empty(), NOW);

    WaypointStatus same = WaypointConditions.of(pendingInputs, Optional.of(first), NOW.plusSeconds(60));
    WaypointStatus ready = WaypointConditions.of(new WaypointConditions.Inputs(waypoint(), true, READY, SERVICE, true),
        Optional.of(first), NOW.plusSeconds(120));

    assertThat(same).isEqualTo(first);
    assertThat(condition(ready, "Accepted").lastTransitionTime()).isEqualTo("2026-11-22T10:15:30Z");
    assertThat(condition(ready, "Programmed").lastTransitionTime()).isEqualTo("2026-11-22T10:17:30Z");
    assertThat(condition(ready, "Programmed").status()).isEqualTo("True");
  }

  @Test
  void a_new_generation_is_a_new_status() {
    WaypointStatus first = WaypointConditions.of(new WaypointConditions.Inputs(waypoint(), true, READY, SERVICE, true),
        Optional.empty(), NOW);
    WaypointResource edited = waypoint();
    edited.getMetadata().setGeneration(4L);

    WaypointStatus second = WaypointConditions.of(new WaypointConditions.Inputs(edited, true, READY, SERVICE, true),
        Optional.of(first), NOW.plusSeconds(5));

    assertThat(second).isNotEqualTo(first);
    assertThat(second.observedGeneration()).isEqualTo(4L);
    assertThat(second.conditions()).extracting(WaypointStatus.Condition::lastTransitionTime)
        .containsOnly("2026-11-22T10:15:30Z");
    assertThat(List.of(first.conditions().get(0).status(), second.conditions().get(0).status())).containsOnly("True");
  }
}

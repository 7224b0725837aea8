package dev.capstan.controller.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.controller.source.crd.WaypointStatus;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The chart's Waypoint CRD and the Java classes that read the resource describe the same thing. */
class WaypointCrdTest {

  static final Path CRD = Path.of("..", "charts", "capstan", "crds", "waypoints.capstan.dev.yaml");

  static CustomResourceDefinition crd() throws IOException {
    try (InputStream in = Files.newInputStream(CRD)) {
      return new KubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
    }
  }

  private static String[] components(Class<? extends Record> type) {
    return Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).sorted().toArray(String[]::new);
  }

  @Test
  void crd_names_match_the_resource_class() throws IOException {
    CustomResourceDefinition crd = crd();
    WaypointResource resource = new WaypointResource();

    assertThat(crd.getMetadata().getName()).isEqualTo(CustomResource.getCRDName(WaypointResource.class));
    assertThat(crd.getSpec().getGroup()).isEqualTo(resource.getGroup());
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(resource.getKind());
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(resource.getPlural());
    assertThat(crd.getSpec().getNames().getSingular()).isEqualTo(resource.getSingular());
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced").isEqualTo(resource.getScope());
    assertThat(crd.getSpec().getVersions()).extracting(CustomResourceDefinitionVersion::getName)
        .containsExactly(resource.getVersion());
  }

  @Test
  void schema_fields_defaults_and_bounds_match_the_spec_records() throws IOException {
    JSONSchemaProps root = crd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    JSONSchemaProps spec = root.getProperties().get("spec");
    JSONSchemaProps resources = spec.getProperties().get("resources");

    assertThat(spec.getProperties().keySet()).containsExactlyInAnyOrder(components(WaypointSpec.class));
    assertThat(resources.getProperties().keySet()).containsExactlyInAnyOrder(components(WaypointSpec.Resources.class));
    assertThat(spec.getProperties().get("replicas").getMaximum()).isEqualTo((double) WaypointSpec.MAX_REPLICAS);
    assertThat(spec.getProperties().get("replicas").getDefault().asInt()).isEqualTo(1);
    assertThat(spec.getProperties().get("trafficType").getEnum()).extracting(JsonNode::asText)
        .containsExactly(Arrays.stream(Waypoint.TrafficType.values()).map(Waypoint.TrafficType::value).toArray(String[]::new));
    assertThat(spec.getProperties().get("trafficType").getDefault().asText()).isEqualTo(Waypoint.TrafficType.SERVICE.value());
    for (String list : new String[] {"requests", "limits"}) {
      assertThat(resources.getProperties().get(list).getMaxProperties()).as(list).isEqualTo(WaypointSpec.MAX_RESOURCES);
    }
    Pattern name = Pattern.compile(root.getProperties().get("metadata").getProperties().get("name").getPattern());
    assertThat(name.matcher("waypoint").matches()).isTrue();
    assertThat(name.matcher("1st").matches()).as("the name is also a Service's: a DNS-1035 label").isFalse();
    Pattern quantity = Pattern.compile(resources.getProperties().get("limits").getAdditionalProperties().getSchema().getPattern());
    assertThat(quantity.matcher("128Mi").matches()).isTrue();
    assertThat(quantity.matcher("lots").matches()).isFalse();
  }

  @Test
  void status_is_a_subresource_whose_schema_matches_the_status_records() throws IOException {
    CustomResourceDefinitionVersion version = crd().getSpec().getVersions().get(0);
    JSONSchemaProps status = version.getSchema().getOpenAPIV3Schema().getProperties().get("status");
    JSONSchemaProps condition = status.getProperties().get("conditions").getItems().getSchema();

    assertThat(version.getSubresources().getStatus()).as("written through /status only").isNotNull();
    assertThat(status.getProperties().keySet()).containsExactlyInAnyOrder(components(WaypointStatus.class));
    assertThat(condition.getProperties().keySet()).containsExactlyInAnyOrder(components(WaypointStatus.Condition.class));
    assertThat(status.getProperties().get("addresses").getItems().getSchema().getProperties().keySet())
        .containsExactlyInAnyOrder(components(WaypointStatus.Address.class));
    Pattern reason = Pattern.compile(condition.getProperties().get("reason").getPattern());
    for (String r : new String[] {"Accepted", "Invalid", "UnsupportedTrafficType", "NamespaceNotEnrolled", "Programmed",
        "Pending", "NoResources", "NotOwned", "AddressNotAssigned"}) {
      assertThat(reason.matcher(r).matches()).as(r).isTrue();
    }
  }
}

package dev.capstan.controller.source;

import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Builders of the Kubernetes objects the tests feed the sources. */
final class Fixtures {

  private Fixtures() {}

  static Namespace namespace(String name, boolean enrolled) {
    NamespaceBuilder b = new NamespaceBuilder().withNewMetadata().withName(name).endMetadata();
    if (enrolled) {
      b.editMetadata().addToLabels(Translator.MESH_LABEL, Translator.MESH_ENABLED).endMetadata();
    }
    return b.build();
  }

  /** A running, scheduled pod with one IP, uid {@code uid-<name>}, label {@code app=<app>}. */
  static PodBuilder pod(String namespace, String name, String app, String ip, String node) {
    return new PodBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).withUid("uid-" + name)
        .addToLabels("app", app).endMetadata()
        .withNewSpec().withNodeName(node).withServiceAccountName(app)
        .addNewContainer().withName("app").withImage("example/" + app).endContainer()
        .endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP().endStatus();
  }

  /** A ClusterIP service selecting {@code app=<app>} with one port (targetPort may be null). */
  static ServiceBuilder service(String namespace, String name, String app, String clusterIp, int port, Object targetPort) {
    ServicePortBuilder p = new ServicePortBuilder().withName("http").withPort(port).withProtocol("TCP");
    if (targetPort instanceof Integer i) {
      p.withTargetPort(new IntOrString(i));
    } else if (targetPort instanceof String s) {
      p.withTargetPort(new IntOrString(s));
    }
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().withClusterIP(clusterIp).addToSelector("app", app).withPorts(p.build()).endSpec();
  }

  /** An endpoint of a slice, pointing at a pod by name and uid; {@code ready} may be null. */
  static io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint(String pod, String ip, Boolean ready) {
    return new EndpointBuilder()
        .withAddresses(ip)
        .withNewConditions().withReady(ready).endConditions()
        .withNewTargetRef().withKind("Pod").withName(pod).withUid("uid-" + pod).endTargetRef()
        .build();
  }

  static EndpointSlice slice(String namespace, String name, String service, Integer port,
      io.fabric8.kubernetes.api.model.discovery.v1.Endpoint... endpoints) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name)
        .addToLabels(Translator.SERVICE_NAME_LABEL, service).endMetadata()
        .withAddressType("IPv4")
        .withEndpoints(Arrays.asList(endpoints))
        .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
        .build();
  }

  static AuthorizationPolicyResource policy(String namespace, String name, AuthorizationPolicySpec spec) {
    AuthorizationPolicyResource p = new AuthorizationPolicyResource();
    p.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    p.setSpec(spec);
    return p;
  }

  static AuthorizationPolicySpec spec(Map<String, String> matchLabels, String action, AuthorizationPolicySpec.Rule... rules) {
    return new AuthorizationPolicySpec(
        matchLabels == null ? null : new AuthorizationPolicySpec.Selector(matchLabels), action,
        rules == null ? null : Arrays.asList(rules));
  }

  static AuthorizationPolicySpec.Rule rule(List<String> principals, List<String> namespaces, List<Integer> ports) {
    return new AuthorizationPolicySpec.Rule(principals, namespaces, ports);
  }

  static Service headless(Service service) {
    return new ServiceBuilder(service).editSpec().withClusterIP("None").endSpec().build();
  }

  /** A Waypoint; {@code spec} may be null. */
  static WaypointResource waypoint(String namespace, String name, WaypointSpec spec) {
    WaypointResource w = new WaypointResource();
    w.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    w.setSpec(spec);
    return w;
  }

  /** A Gateway API route (kind HTTPRoute or GRPCRoute) read from YAML, as the API server or a file gives it. */
  static GenericKubernetesResource route(String kind, String namespace, String name, String specYaml) {
    String yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: " + kind + "\nmetadata: {name: " + name + ", namespace: "
        + namespace + "}\nspec:\n" + specYaml.indent(2);
    return new io.fabric8.kubernetes.client.utils.KubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
  }
}

package dev.capstan.controller.waypoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The Kubernetes objects that run one Waypoint in a cluster, as a pure function of the resource
 * and the controller's settings: a ConfigMap with the waypoint's config ({@code controller}: the
 * mesh and routes from Hazelcast; {@code ca}: its certificate from the controller's CA) and the
 * mesh root, a Deployment ({@code run --config}, ports 15008/15020/15021, readiness
 * {@code /healthz/ready}, the CR's replicas and resources, a projected service account token for
 * the CA and no other token), a ClusterIP Service (port
 * 15008 named {@code hbone}) named as the Waypoint, and its ServiceAccount when the spec names
 * none. Every object is owned by the Waypoint (a controller {@code ownerReference}), so deleting
 * the Waypoint deletes them, and carries the hash of its desired content, so an unchanged object
 * is never written again.
 */
public final class WaypointManifests {

  /** Label on every object (and the pods): the Waypoint's name. The pods' selector. */
  public static final String WAYPOINT_LABEL = "capstan.dev/waypoint";
  /** Annotation: the hash of what the controller wants the object to be. */
  public static final String HASH_ANNOTATION = "capstan.dev/desired-hash";
  /** Pod template annotation: the hash of the waypoint's config, so a config change rolls the pods. */
  public static final String CONFIG_HASH_ANNOTATION = "capstan.dev/config-hash";
  public static final int HBONE_PORT = 15008;
  public static final int METRICS_PORT = 15020;
  public static final int READY_PORT = 15021;
  static final String CONFIG_KEY = "waypoint.yaml";
  /** ConfigMap key of the mesh root, beside the config. */
  static final String ROOT_KEY = "root-cert.pem";
  static final String CONFIG_DIR = "/etc/capstan/config";
  /** Where the projected token is mounted; the file is {@code token}. */
  static final String TOKEN_DIR = "/var/run/secrets/capstan";
  /** The audience of the projected token: the CA's. */
  static final String TOKEN_AUDIENCE = "capstan-ca";
  /** Lifetime of the projected token (the kubelet rotates it at 80%). */
  static final long TOKEN_SECONDS = 3600;

  private static final ObjectMapper CANONICAL = JsonMapper.builder()
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
      .build();

  /**
   * What the controller is told about running waypoints.
   *
   * @param image the waypoint's container image
   * @param imagePullPolicy {@code IfNotPresent}, {@code Always} or {@code Never}
   * @param trustDomain the mesh's trust domain
   * @param clusterName the controller's Hazelcast cluster name
   * @param members controller addresses ({@code host:port}) the waypoints connect to
   * @param caAddress the controller's CA ({@code host:port}), e.g.
   *     {@code capstan-controller.capstan-system.svc:15012}
   * @param caIdentity the SPIFFE ID the CA server's certificate must carry (the controller's)
   * @param rootPem the mesh root(s) the waypoints trust (PEM), written beside their config
   */
  public record Settings(String image, String imagePullPolicy, String trustDomain, String clusterName, List<String> members,
      String caAddress, String caIdentity, String rootPem) {
    public Settings {
      Objects.requireNonNull(image, "image");
      Objects.requireNonNull(imagePullPolicy, "imagePullPolicy");
      Objects.requireNonNull(trustDomain, "trustDomain");
      Objects.requireNonNull(clusterName, "clusterName");
      Objects.requireNonNull(caAddress, "caAddress");
      Objects.requireNonNull(caIdentity, "caIdentity");
      Objects.requireNonNull(rootPem, "rootPem");
      members = List.copyOf(members);
    }
  }

  private WaypointManifests() {}

  /** The name of the waypoint's ConfigMap. */
  public static String configMapName(String waypoint) {
    return waypoint + "-waypoint-config";
  }

  /**
   * The objects, in the order to write them: ServiceAccount (if the controller makes it),
   * ConfigMap, Service, Deployment. {@code resource} gives the owner's uid; {@code waypoint} the
   * validated model.
   */
  public static List<HasMetadata> of(WaypointResource resource, Waypoint waypoint, Settings settings) {
    String ns = waypoint.namespace();
    String name = waypoint.name();
    OwnerReference owner = new OwnerReferenceBuilder().withApiVersion(WaypointResource.API_VERSION)
        .withKind(WaypointResource.KIND).withName(name).withUid(resource.getMetadata().getUid())
        .withController(true).withBlockOwnerDeletion(true).build();
    Map<String, String> labels = new TreeMap<>(Map.of(
        WAYPOINT_LABEL, name,
        "app.kubernetes.io/name", "capstan-waypoint",
        "app.kubernetes.io/instance", name,
        "app.kubernetes.io/managed-by", "capstan-controller"));
    List<HasMetadata> out = new ArrayList<>();
    boolean ownAccount = resource.getSpec() == null || resource.getSpec().serviceAccount() == null
        || resource.getSpec().serviceAccount().isBlank();
    if (ownAccount) {
      ServiceAccount sa = new ServiceAccountBuilder().withMetadata(meta(ns, waypoint.serviceAccount(), labels, owner)).build();
      out.add(hashed(sa));
    }
    String config = config(waypoint, settings);
    ConfigMap configMap = new ConfigMapBuilder().withMetadata(meta(ns, configMapName(name), labels, owner))
        .withData(new TreeMap<>(Map.of(CONFIG_KEY, config, ROOT_KEY, settings.rootPem()))).build();
    out.add(hashed(configMap));
    out.add(hashed(new ServiceBuilder().withMetadata(meta(ns, name, labels, owner))
        .withNewSpec().withType("ClusterIP").withSelector(Map.of(WAYPOINT_LABEL, name))
        .addNewPort().withName("hbone").withPort(HBONE_PORT).withTargetPort(new IntOrString(HBONE_PORT))
        .withProtocol("TCP").endPort()
        .endSpec().build()));
    // A new root also rolls the pods: the waypoint reads it at start.
    out.add(hashed(deployment(waypoint, settings, labels, owner, hash(config + settings.rootPem()))));
    return out;
  }

  /**
   * The waypoint's config file: the mesh and routes from the controller, its certificate from the
   * controller's CA with the pod's projected token.
   */
  static String config(Waypoint waypoint, Settings settings) {
    StringBuilder members = new StringBuilder();
    for (String m : settings.members()) {
      members.append(members.length() == 0 ? "" : ", ").append('"').append(m).append('"');
    }
    return """
        # Written by the capstan controller for Waypoint %s/%s; edits are overwritten.
        namespace: %s
        serviceAccount: %s
        trustDomain: %s
        listen: 0.0.0.0:%d
        hbonePort: %d
        ca: {address: "%s", identity: "%s", root: %s/%s, token: %s/token}
        controller: {clusterName: "%s", members: [%s]}
        admin: 127.0.0.1:15000
        metrics: 0.0.0.0:%d
        ready: 0.0.0.0:%d
        """.formatted(waypoint.namespace(), waypoint.name(), waypoint.namespace(), waypoint.serviceAccount(),
        settings.trustDomain(), HBONE_PORT, HBONE_PORT, settings.caAddress(), settings.caIdentity(), CONFIG_DIR, ROOT_KEY,
        TOKEN_DIR, settings.clusterName(), members, METRICS_PORT, READY_PORT);
  }

  private static Deployment deployment(Waypoint waypoint, Settings settings, Map<String, String> labels, OwnerReference owner,
      String configHash) {
    String ns = waypoint.namespace();
    String name = waypoint.name();
    return new DeploymentBuilder().withMetadata(meta(ns, name, labels, owner))
        .withNewSpec()
        .withReplicas(waypoint.replicas())
        .withNewSelector().withMatchLabels(Map.of(WAYPOINT_LABEL, name)).endSelector()
        .withNewTemplate()
        .withNewMetadata().withLabels(labels).withAnnotations(Map.of(CONFIG_HASH_ANNOTATION, configHash)).endMetadata()
        .withNewSpec()
        .withServiceAccountName(waypoint.serviceAccount())
        // Only the projected token below, bound to the CA's audience: no API server token in the pod.
        .withAutomountServiceAccountToken(false)
        .withTerminationGracePeriodSeconds(30L)
        .addNewContainer()
        .withName("waypoint")
        .withImage(settings.image())
        .withImagePullPolicy(settings.imagePullPolicy())
        .withArgs("run", "--config", CONFIG_DIR + "/" + CONFIG_KEY)
        .addNewPort().withName("hbone").withContainerPort(HBONE_PORT).withProtocol("TCP").endPort()
        .addNewPort().withName("metrics").withContainerPort(METRICS_PORT).withProtocol("TCP").endPort()
        .addNewPort().withName("status").withContainerPort(READY_PORT).withProtocol("TCP").endPort()
        .withNewReadinessProbe()
        .withNewHttpGet().withPath("/healthz/ready").withPort(new IntOrString(READY_PORT)).endHttpGet()
        .withPeriodSeconds(5).withFailureThreshold(3)
        .endReadinessProbe()
        .withNewResources().withRequests(quantities(waypoint.resources().requests()))
        .withLimits(quantities(waypoint.resources().limits())).endResources()
        .withNewSecurityContext().withRunAsNonRoot(true).withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true).withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
        .addNewVolumeMount().withName("config").withMountPath(CONFIG_DIR).withReadOnly(true).endVolumeMount()
        .addNewVolumeMount().withName("ca-token").withMountPath(TOKEN_DIR).withReadOnly(true).endVolumeMount()
        .endContainer()
        .addNewVolume().withName("config").withNewConfigMap().withName(configMapName(name)).endConfigMap().endVolume()
        .addNewVolume().withName("ca-token").withNewProjected().addNewSource().withNewServiceAccountToken()
        .withAudience(TOKEN_AUDIENCE).withExpirationSeconds(TOKEN_SECONDS).withPath("token").endServiceAccountToken()
        .endSource().endProjected().endVolume()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private static Map<String, Quantity> quantities(Map<String, String> values) {
    Map<String, Quantity> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(k, new Quantity(v)));
    return out;
  }

  private static ObjectMeta meta(String namespace, String name, Map<String, String> labels, OwnerReference owner) {
    return new ObjectMetaBuilder().withNamespace(namespace).withName(name).withLabels(labels)
        .withOwnerReferences(owner).build();
  }

  /** The object with the hash of its content (before the hash) as an annotation. */
  private static <T extends HasMetadata> T hashed(T object) {
    String hash;
    try {
      hash = hash(CANONICAL.writeValueAsString(object));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot hash " + object.getKind() + " " + object.getMetadata().getName(), e);
    }
    object.getMetadata().setAnnotations(new TreeMap<>(Map.of(HASH_ANNOTATION, hash)));
    return object;
  }

  static String hash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

package dev.capstan.controller.ca;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the mesh root in the ConfigMap {@code capstan-ca-root} (key {@code root-cert.pem}) of
 * the controller's namespace, so node agents can mount it and verify the CA server and their
 * peers. Created, or updated when it holds another root. Blocking: start-up only.
 */
public final class RootConfigMap {

  private static final Logger LOG = LoggerFactory.getLogger(RootConfigMap.class);

  public static final String NAME = "capstan-ca-root";
  public static final String KEY = "root-cert.pem";

  private final KubernetesClient client;
  private final String namespace;

  public RootConfigMap(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Makes the ConfigMap hold {@code ca}'s root. */
  public void publish(SigningCa ca) {
    String pem = ca.rootPem();
    try {
      ConfigMap current = client.configMaps().inNamespace(namespace).withName(NAME).get();
      if (current != null && current.getData() != null && pem.equals(current.getData().get(KEY))) {
        return;
      }
      ConfigMap wanted = new ConfigMapBuilder()
          .withNewMetadata()
            .withName(NAME)
            .withNamespace(namespace)
            .addToLabels("app.kubernetes.io/managed-by", "capstan")
          .endMetadata()
          .addToData(KEY, pem)
          .build();
      client.configMaps().inNamespace(namespace).resource(wanted).createOr(NonDeletingOperation::update);
      LOG.info("mesh root published in ConfigMap {}/{}", namespace, NAME);
    } catch (KubernetesClientException e) {
      throw new CaStoreException("cannot publish the mesh root in ConfigMap " + namespace + "/" + NAME + ": " + e.getMessage(), e);
    }
  }
}

package dev.capstan.controller.ca;

import dev.capstan.core.tls.Pem;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root in the Kubernetes Secret {@code capstan-ca} of the controller's namespace (keys
 * {@code root-cert.pem}, {@code root-key.pem}). Loaded if present; otherwise made and created.
 * When another replica created it first (409 Conflict), its root is read back and used, so every
 * replica signs with the same root.
 */
public final class SecretCaStore implements CaSource {

  private static final Logger LOG = LoggerFactory.getLogger(SecretCaStore.class);

  public static final String SECRET_NAME = "capstan-ca";
  public static final String CERT_KEY = "root-cert.pem";
  public static final String KEY_KEY = "root-key.pem";

  private final KubernetesClient client;
  private final String namespace;
  private final String trustDomain;
  private final Duration rootValidity;
  private final Clock clock;

  public SecretCaStore(KubernetesClient client, String namespace, String trustDomain, Duration rootValidity, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.trustDomain = trustDomain;
    this.rootValidity = rootValidity;
    this.clock = clock;
  }

  @Override
  public SigningCa signingCa() {
    String where = "Secret " + namespace + "/" + SECRET_NAME;
    try {
      Secret existing = client.secrets().inNamespace(namespace).withName(SECRET_NAME).get();
      if (existing != null) {
        return load(existing, where, "loaded");
      }
      SigningCa ca = SigningCa.selfSigned(trustDomain, clock, rootValidity);
      Secret secret = new SecretBuilder()
          .withNewMetadata()
            .withName(SECRET_NAME)
            .withNamespace(namespace)
            .addToLabels("app.kubernetes.io/managed-by", "capstan")
          .endMetadata()
          .withType("Opaque")
          .addToData(CERT_KEY, base64(ca.rootPem()))
          .addToData(KEY_KEY, base64(Pem.encodeKey(ca.key())))
          .build();
      try {
        client.secrets().inNamespace(namespace).resource(secret).create();
        LOG.info("CA root created in {}: valid until {}", where, ca.root().getNotAfter().toInstant());
        return ca;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        Secret winner = client.secrets().inNamespace(namespace).withName(SECRET_NAME).get();
        if (winner == null) {
          throw new CaStoreException(where + " conflicted on create but cannot be read back", e);
        }
        return load(winner, where, "created by another replica, loaded");
      }
    } catch (KubernetesClientException e) {
      throw new CaStoreException(where + ": " + e.getMessage(), e);
    }
  }

  private static SigningCa load(Secret secret, String where, String how) {
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    String cert = data.get(CERT_KEY);
    String key = data.get(KEY_KEY);
    if (cert == null || key == null) {
      throw new CaStoreException(where + " lacks " + (cert == null ? CERT_KEY : KEY_KEY));
    }
    SigningCa ca;
    try {
      ca = SigningCa.fromPem(decode(cert), decode(key), where);
    } catch (IllegalArgumentException e) {
      throw new CaStoreException(where + " holds invalid base64: " + e.getMessage(), e);
    }
    LOG.info("CA root {} from {}: valid until {}", how, where, ca.root().getNotAfter().toInstant());
    return ca;
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
  }
}

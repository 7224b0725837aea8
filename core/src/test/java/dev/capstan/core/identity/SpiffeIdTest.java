package dev.capstan.core.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.capstan.core.identity.SpiffeVerificationException.Reason;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.SpiffeTrustManager;
import dev.capstan.core.tls.TrustBundle;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPIFFE identities: strict parsing, extraction from certificates, and the trust manager, PEM and
 * issuer that produce and check them. Every certificate is built by a throwaway {@link Issuer};
 * time is a fixed clock in 2030, so a check that used the wall clock instead would fail.
 */
class SpiffeIdTest {

  private static final String TRUST_DOMAIN = "cluster.local";
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";

  private static final Issuer ROOT = Issuer.selfSignedRoot(TRUST_DOMAIN, NOW.minus(Duration.ofDays(1)), Duration.ofDays(30));
  private static final Issuer FOREIGN_ROOT =
      Issuer.selfSignedRoot(TRUST_DOMAIN, NOW.minus(Duration.ofDays(1)), Duration.ofDays(30));
  private static final KeyPair LEAF_KEYS = Issuer.newKeyPair();

  /** A leaf of {@link #ROOT} for the given URI SANs, valid for an hour around {@link #NOW}. */
  private static X509Certificate leaf(Issuer issuer, List<String> uriSans) {
    return issuer.leaf(LEAF_KEYS.getPublic(), uriSans, NOW.minus(Duration.ofHours(1)), NOW.plus(Duration.ofHours(1)));
  }

  private static X509Certificate leaf(Instant notBefore, Instant notAfter) {
    return ROOT.leaf(LEAF_KEYS.getPublic(), List.of(FRONTEND), notBefore, notAfter);
  }

  @Nested
  class Parsing {

    static Stream<Arguments> validIds() {
      return Stream.of(
          argumentSet("default service account", "spiffe://cluster.local/ns/default/sa/default", "cluster.local", "default", "default"),
          argumentSet("other trust domain", "spiffe://example.org/ns/shop/sa/frontend", "example.org", "shop", "frontend"),
          argumentSet("digits only", "spiffe://1/ns/0/sa/9", "1", "0", "9"),
          argumentSet("hyphens and underscore in trust domain", "spiffe://prod-eu_1.example/ns/a-b/sa/c-d", "prod-eu_1.example", "a-b", "c-d"),
          argumentSet("dots in service account", "spiffe://cluster.local/ns/kube-system/sa/system.node", "cluster.local", "kube-system", "system.node"),
          argumentSet("longest names", "spiffe://" + "t".repeat(255) + "/ns/" + "n".repeat(253) + "/sa/" + "s".repeat(253),
              "t".repeat(255), "n".repeat(253), "s".repeat(253)));
    }

    @ParameterizedTest(name = "{argumentSetName}")
    @MethodSource("validIds")
    void valid_id_round_trips_through_parse_and_uri(String uri, String trustDomain, String namespace, String serviceAccount) {
      SpiffeId id = SpiffeId.parse(uri);

      assertThat(id).isEqualTo(new SpiffeId(trustDomain, namespace, serviceAccount));
      assertThat(id.uri()).isEqualTo(uri);
      assertThat(id).hasToString(uri);
      assertThat(SpiffeId.parse(id.uri())).isEqualTo(id);
    }

    @Test
    void of_builds_the_same_id_as_parse() {
      assertThat(SpiffeId.of("cluster.local", "shop", "frontend")).isEqualTo(SpiffeId.parse(FRONTEND));
    }

    static Stream<Arguments> refusedIds() {
      return Stream.of(
          argumentSet("wrong scheme", "https://cluster.local/ns/shop/sa/frontend"),
          argumentSet("upper case scheme", "SPIFFE://cluster.local/ns/shop/sa/frontend"),
          argumentSet("single slash after scheme", "spiffe:/cluster.local/ns/shop/sa/frontend"),
          argumentSet("no scheme", "cluster.local/ns/shop/sa/frontend"),
          argumentSet("missing sa", "spiffe://cluster.local/ns/shop"),
          argumentSet("sa keyword without a name", "spiffe://cluster.local/ns/shop/sa"),
          argumentSet("trust domain only", "spiffe://cluster.local"),
          argumentSet("keywords swapped", "spiffe://cluster.local/sa/frontend/ns/shop"),
          argumentSet("keywords misspelt", "spiffe://cluster.local/namespace/shop/sa/frontend"),
          argumentSet("extra path segment", "spiffe://cluster.local/ns/shop/sa/frontend/extra"),
          argumentSet("trailing slash", "spiffe://cluster.local/ns/shop/sa/frontend/"),
          argumentSet("empty trust domain", "spiffe:///ns/shop/sa/frontend"),
          argumentSet("empty namespace", "spiffe://cluster.local/ns//sa/frontend"),
          argumentSet("empty service account", "spiffe://cluster.local/ns/shop/sa/"),
          argumentSet("doubled slash", "spiffe://cluster.local//ns/shop/sa/frontend"),
          argumentSet("dot segment", "spiffe://cluster.local/ns/./sa/frontend"),
          argumentSet("dot-dot segment", "spiffe://cluster.local/ns/../sa/frontend"),
          argumentSet("leading hyphen in namespace", "spiffe://cluster.local/ns/-shop/sa/frontend"),
          argumentSet("trailing dot in trust domain", "spiffe://cluster.local./ns/shop/sa/frontend"),
          argumentSet("upper case trust domain", "spiffe://Cluster.Local/ns/shop/sa/frontend"),
          argumentSet("upper case namespace", "spiffe://cluster.local/ns/Shop/sa/frontend"),
          argumentSet("upper case service account", "spiffe://cluster.local/ns/shop/sa/FrontEnd"),
          argumentSet("underscore in namespace", "spiffe://cluster.local/ns/my_shop/sa/frontend"),
          argumentSet("NUL at the end", FRONTEND + "\u0000"),
          argumentSet("NUL in the namespace", "spiffe://cluster.local/ns/sh\u0000op/sa/frontend"),
          argumentSet("tab", "spiffe://cluster.local/ns/shop/sa/front\tend"),
          argumentSet("line feed", FRONTEND + "\n"),
          argumentSet("carriage return", "spiffe://cluster.local\r/ns/shop/sa/frontend"),
          argumentSet("escape character", "spiffe://cluster.local/ns/shop/sa/\u001bfrontend"),
          argumentSet("DEL", "spiffe://cluster.local/ns/shop/sa/frontend\u007f"),
          argumentSet("space", "spiffe://cluster.local/ns/shop/sa/front end"),
          argumentSet("leading space", " " + FRONTEND),
          argumentSet("non-ASCII letter", "spiffe://cluster.local/ns/caf\u00e9/sa/frontend"),
          argumentSet("non-ASCII look-alike of a", "spiffe://cluster.local/ns/shop/sa/fr\u0430ntend"),
          argumentSet("non-breaking space", "spiffe://cluster.local/ns/shop/sa/frontend\u00a0"),
          argumentSet("percent-encoded slash", "spiffe://cluster.local/ns/shop%2Fx/sa/frontend"),
          argumentSet("percent-encoded letter", "spiffe://cluster.local/ns/shop/sa/%66rontend"),
          argumentSet("query", FRONTEND + "?x=1"),
          argumentSet("fragment", FRONTEND + "#x"),
          argumentSet("user info", "spiffe://admin@cluster.local/ns/shop/sa/frontend"),
          argumentSet("port", "spiffe://cluster.local:443/ns/shop/sa/frontend"),
          argumentSet("empty string", ""));
    }

    @ParameterizedTest(name = "{argumentSetName}")
    @MethodSource("refusedIds")
    void malformed_id_is_refused(String uri) {
      assertThatThrownBy(() -> SpiffeId.parse(uri))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("SPIFFE");
    }

    @Test
    void id_longer_than_2048_characters_is_refused_before_anything_else() {
      String tooLong = "spiffe://cluster.local/ns/shop/sa/" + "a".repeat(2049);

      assertThatThrownBy(() -> SpiffeId.parse(tooLong))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("longer than 2048");
    }

    @Test
    void control_characters_are_named_without_being_echoed() {
      assertThatThrownBy(() -> SpiffeId.parse(FRONTEND + "\u0000"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("control")
          .hasMessageNotContaining("\u0000");
      assertThatThrownBy(() -> SpiffeId.of("cluster.local", "sh\u0000op", "frontend"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'sh?op'");
    }

    @Test
    void null_is_refused() {
      assertThatThrownBy(() -> SpiffeId.parse(null)).isInstanceOf(NullPointerException.class);
      assertThatThrownBy(() -> SpiffeId.of(TRUST_DOMAIN, null, "frontend")).isInstanceOf(NullPointerException.class);
    }
  }

  @Nested
  class FromCertificate {

    @Test
    void leaf_with_one_spiffe_uri_san_names_that_identity() throws Exception {
      assertThat(SpiffeId.fromCertificate(leaf(ROOT, List.of(FRONTEND)))).isEqualTo(SpiffeId.parse(FRONTEND));
    }

    @Test
    void certificate_without_uri_san_is_refused() {
      // Issuer.leaf cannot build a leaf with no SAN at all (its subject is empty); the root has a
      // subject and no SAN, which is the certificate a peer without an identity would present.
      assertThatThrownBy(() -> SpiffeId.fromCertificate(ROOT.certificate()))
          .isInstanceOfSatisfying(SpiffeVerificationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SAN))
          .hasMessageContaining("exactly one URI SAN, found 0");
    }

    @Test
    void leaf_with_two_uri_sans_is_refused() {
      X509Certificate two = leaf(ROOT, List.of(FRONTEND, "spiffe://cluster.local/ns/shop/sa/backend"));

      assertThatThrownBy(() -> SpiffeId.fromCertificate(two))
          .isInstanceOfSatisfying(SpiffeVerificationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SAN))
          .hasMessageContaining("found 2");
    }

    @Test
    void leaf_whose_uri_san_is_not_a_spiffe_id_is_refused() {
      X509Certificate https = leaf(ROOT, List.of("https://cluster.local/ns/shop/sa/frontend"));

      assertThatThrownBy(() -> SpiffeId.fromCertificate(https))
          .isInstanceOfSatisfying(SpiffeVerificationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SAN))
          .hasMessageStartingWith("bad_san: ");
    }
  }

  @Nested
  class TrustManager {

    private final SpiffeTrustManager trustManager =
        new SpiffeTrustManager(TRUST_DOMAIN, new TrustBundle(List.of(ROOT.certificate())), CLOCK);

    @Test
    void chain_of_leaf_and_root_is_accepted() throws Exception {
      SpiffeId id = trustManager.verify(new X509Certificate[] {leaf(ROOT, List.of(FRONTEND)), ROOT.certificate()});

      assertThat(id).isEqualTo(SpiffeId.parse(FRONTEND));
    }

    @Test
    void leaf_alone_is_accepted() throws Exception {
      SpiffeId id = trustManager.verify(new X509Certificate[] {leaf(ROOT, List.of(FRONTEND))});

      assertThat(id).isEqualTo(SpiffeId.parse(FRONTEND));
    }

    @Test
    void leaf_at_the_last_instant_of_its_validity_is_accepted() throws Exception {
      SpiffeId id = trustManager.verify(new X509Certificate[] {leaf(NOW.minus(Duration.ofHours(1)), NOW)});

      assertThat(id).isEqualTo(SpiffeId.parse(FRONTEND));
    }

    static Stream<Arguments> refusedChains() {
      return Stream.<Arguments>of(
          argumentSet("empty chain", chain(), Reason.NO_CERTIFICATE),
          argumentSet("no chain at all", (Supplier<X509Certificate[]>) () -> null, Reason.NO_CERTIFICATE),
          argumentSet("leaf of a foreign CA with its root",
              chain(() -> leaf(FOREIGN_ROOT, List.of(FRONTEND)), FOREIGN_ROOT::certificate), Reason.UNTRUSTED_CHAIN),
          argumentSet("leaf of a foreign CA alone", chain(() -> leaf(FOREIGN_ROOT, List.of(FRONTEND))), Reason.UNTRUSTED_CHAIN),
          argumentSet("leaf of a foreign CA next to the mesh root",
              chain(() -> leaf(FOREIGN_ROOT, List.of(FRONTEND)), ROOT::certificate), Reason.UNTRUSTED_CHAIN),
          argumentSet("expired leaf",
              chain(() -> leaf(NOW.minus(Duration.ofHours(2)), NOW.minusSeconds(1)), ROOT::certificate), Reason.EXPIRED),
          argumentSet("leaf not yet valid",
              chain(() -> leaf(NOW.plusSeconds(1), NOW.plus(Duration.ofHours(2))), ROOT::certificate), Reason.EXPIRED),
          argumentSet("leaf of a foreign trust domain",
              chain(() -> leaf(ROOT, List.of("spiffe://other.example/ns/shop/sa/frontend")), ROOT::certificate),
              Reason.FOREIGN_TRUST_DOMAIN),
          argumentSet("trusted leaf with two identities",
              chain(() -> leaf(ROOT, List.of(FRONTEND, "spiffe://cluster.local/ns/shop/sa/backend"))), Reason.BAD_SAN),
          argumentSet("trusted leaf with a malformed identity",
              chain(() -> leaf(ROOT, List.of("spiffe://cluster.local/ns/shop/sa/frontend?admin=1"))), Reason.BAD_SAN),
          argumentSet("the root presented as a leaf", chain(ROOT::certificate), Reason.LEAF_IS_CA));
    }

    private static Supplier<X509Certificate[]> chain() {
      return () -> new X509Certificate[0];
    }

    private static Supplier<X509Certificate[]> chain(Supplier<X509Certificate> leaf) {
      return () -> new X509Certificate[] {leaf.get()};
    }

    private static Supplier<X509Certificate[]> chain(Supplier<X509Certificate> leaf, Supplier<X509Certificate> next) {
      return () -> new X509Certificate[] {leaf.get(), next.get()};
    }

    @ParameterizedTest(name = "{argumentSetName}")
    @MethodSource("refusedChains")
    void chain_is_refused_with_a_reason(Supplier<X509Certificate[]> chain, Reason reason) {
      X509Certificate[] certificates = chain.get();

      assertThatThrownBy(() -> trustManager.verify(certificates))
          .isInstanceOfSatisfying(SpiffeVerificationException.class, e -> assertThat(e.reason()).isEqualTo(reason))
          .hasMessageStartingWith(reason.label() + ": ");
    }

    @Test
    void tls_callbacks_refuse_what_verify_refuses() {
      X509Certificate[] foreign = {leaf(FOREIGN_ROOT, List.of(FRONTEND)), FOREIGN_ROOT.certificate()};

      assertThatThrownBy(() -> trustManager.checkClientTrusted(foreign, "ECDSA"))
          .isInstanceOfSatisfying(SpiffeVerificationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_CHAIN));
      assertThatThrownBy(() -> trustManager.checkServerTrusted(foreign, "ECDSA"))
          .isInstanceOfSatisfying(SpiffeVerificationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_CHAIN));
    }

    @Test
    void accepted_issuers_are_the_bundle_roots() {
      assertThat(trustManager.getAcceptedIssuers()).containsExactly(ROOT.certificate());
    }
  }

  @Nested
  class PemEncoding {

    @Test
    void pkcs8_key_round_trips() throws IOException {
      PrivateKey key = LEAF_KEYS.getPrivate();
      String pem = Pem.encodeKey(key);

      assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----");
      assertThat(((ECPrivateKey) Pem.privateKey(pem)).getS()).isEqualTo(((ECPrivateKey) key).getS());
    }

    /** A throwaway P-256 key in SEC1 form, as {@code openssl ecparam -name prime256v1 -genkey} writes it. */
    private static final String OPENSSL_SEC1_KEY =
        """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEIHGlqGEaMNylZ4JyaDn0Vy1ZdZRdm0X11V76hKJBoKWZoAoGCCqGSM49
        AwEHoUQDQgAEs0D7U4w9PQ5sZIFWlYSKWFUI0gBfjbBUy4Cmz8IbeLZYEtdG38mg
        2Oyg73Q5rFPaovXPI6/aT9u1m41S1pSVCw==
        -----END EC PRIVATE KEY-----
        """;

    @Test
    void sec1_ec_key_written_by_openssl_is_read() throws IOException {
      PrivateKey key = Pem.privateKey(OPENSSL_SEC1_KEY);

      assertThat(key).isInstanceOfSatisfying(ECPrivateKey.class, ec -> assertThat(ec.getS())
          .isEqualTo(new BigInteger("71A5A8611A30DCA56782726839F4572D5975945D9B45F5D55EFA84A241A0A599", 16)));
      assertThat(Pem.privateKey(Pem.encodeKey(key)).getEncoded()).isEqualTo(key.getEncoded());
    }

    @Test
    void certificates_round_trip_in_order() throws CertificateException {
      X509Certificate leaf = leaf(ROOT, List.of(FRONTEND));

      assertThat(Pem.certificates(Pem.encode(List.of(leaf, ROOT.certificate())))).containsExactly(leaf, ROOT.certificate());
      assertThat(Pem.certificates(Pem.encode(ROOT.certificate(), leaf))).containsExactly(ROOT.certificate(), leaf);
    }

    @Test
    void text_without_a_certificate_is_refused() {
      assertThatThrownBy(() -> Pem.certificates(""))
          .isInstanceOf(CertificateException.class)
          .hasMessageContaining("no certificate");
    }

    @Test
    void certificate_text_is_not_a_private_key() {
      String certificate = Pem.encode(ROOT.certificate());

      assertThatThrownBy(() -> Pem.privateKey(certificate))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("no private key");
    }
  }

  @Nested
  class IssuedLeaf {

    private final SpiffeId id = SpiffeId.parse(FRONTEND);
    private final CertifiedKey issued = ROOT.issue(id, NOW, Duration.ofHours(1));
    private final X509Certificate leaf = issued.leaf();

    @Test
    void is_not_a_ca() {
      assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
      assertThat(ROOT.certificate().getBasicConstraints()).isNotNegative();
    }

    @Test
    void may_sign_but_not_sign_certificates() {
      boolean[] usage = leaf.getKeyUsage();

      assertThat(usage[0]).as("digitalSignature").isTrue();
      assertThat(usage[5]).as("keyCertSign").isFalse();
    }

    @Test
    void serves_both_client_and_server_authentication() throws CertificateException {
      assertThat(leaf.getExtendedKeyUsage())
          .containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    }

    @Test
    void carries_exactly_one_uri_san_naming_the_identity() throws CertificateException {
      assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, FRONTEND));
      assertThat(issued.identity()).isEqualTo(id);
    }

    @Test
    void chain_is_leaf_then_root_signed_by_the_root() throws Exception {
      assertThat(issued.chain()).containsExactly(leaf, ROOT.certificate());
      leaf.verify(ROOT.certificate().getPublicKey());
      assertThat(leaf.getIssuerX500Principal()).isEqualTo(ROOT.certificate().getSubjectX500Principal());
    }

    @Test
    void validity_starts_a_minute_early_and_lasts_as_asked() {
      assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW.minusSeconds(60));
      assertThat(issued.notAfter()).isEqualTo(NOW.plus(Duration.ofHours(1)));
    }

    @Test
    void key_belongs_to_the_leaf() throws Exception {
      byte[] data = "hbone".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance("SHA256withECDSA");
      signer.initSign(issued.key());
      signer.update(data);
      byte[] signature = signer.sign();

      Signature verifier = Signature.getInstance("SHA256withECDSA");
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(data);
      assertThat(verifier.verify(signature)).isTrue();
    }

    @Test
    void is_accepted_by_the_mesh_trust_manager() throws Exception {
      SpiffeTrustManager trustManager =
          new SpiffeTrustManager(TRUST_DOMAIN, new TrustBundle(List.of(ROOT.certificate())), CLOCK);

      assertThat(trustManager.verify(issued.chain().toArray(new X509Certificate[0]))).isEqualTo(id);
    }
  }
}

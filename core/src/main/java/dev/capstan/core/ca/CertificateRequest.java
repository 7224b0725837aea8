package dev.capstan.core.ca;

import java.util.Map;
import java.util.Objects;

/**
 * Istio's {@code IstioCertificateRequest}: a PEM PKCS#10 CSR, the validity the caller asks for
 * and free-form metadata.
 *
 * @param csrPem the CSR in PEM form (field 1)
 * @param validitySeconds requested lifetime in seconds, 0 for the CA's default (field 3)
 * @param metadata string entries of the {@code google.protobuf.Struct} (field 4)
 */
public record CertificateRequest(String csrPem, long validitySeconds, Map<String, String> metadata) {

  public CertificateRequest {
    Objects.requireNonNull(csrPem, "csrPem");
    metadata = Map.copyOf(metadata);
  }

  /** A request without metadata. */
  public static CertificateRequest of(String csrPem, long validitySeconds) {
    return new CertificateRequest(csrPem, validitySeconds, Map.of());
  }
}

package dev.capstan.core.ca;

import java.util.List;

/**
 * Istio's {@code IstioCertificateResponse}.
 *
 * @param certChainPem one PEM certificate per entry: the leaf first, then intermediates, the root
 *     last (field 200)
 */
public record CertificateResponse(List<String> certChainPem) {

  public CertificateResponse {
    certChainPem = List.copyOf(certChainPem);
  }
}

package dev.capstan.core.identity;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A workload identity {@code spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}.
 *
 * <p>Parsing is strict: lower-case trust domain of DNS characters, exactly the {@code ns/../sa/..}
 * path, names of Kubernetes characters, no control characters, no percent-encoding, no query or
 * fragment.
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {

  private static final String SCHEME = "spiffe://";
  private static final int MAX_LENGTH = 2048;
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9.\\-_]{0,253}[a-z0-9])?");
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9.\\-]{0,251}[a-z0-9])?");
  private static final int URI_SAN = 6;

  public SpiffeId {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    if (!TRUST_DOMAIN.matcher(trustDomain).matches()) {
      throw new IllegalArgumentException("invalid SPIFFE trust domain '" + printable(trustDomain) + "'");
    }
    if (!NAME.matcher(namespace).matches()) {
      throw new IllegalArgumentException("invalid namespace in SPIFFE ID '" + printable(namespace) + "'");
    }
    if (!NAME.matcher(serviceAccount).matches()) {
      throw new IllegalArgumentException(
          "invalid service account in SPIFFE ID '" + printable(serviceAccount) + "'");
    }
  }

  /** Parses {@code spiffe://td/ns/<ns>/sa/<sa>}; throws {@link IllegalArgumentException} with the reason. */
  public static SpiffeId parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    if (uri.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("SPIFFE ID longer than " + MAX_LENGTH + " characters");
    }
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException("SPIFFE ID contains a control, space or non-ASCII character");
      }
    }
    if (!uri.startsWith(SCHEME)) {
      throw new IllegalArgumentException("SPIFFE ID must start with spiffe:// : '" + uri + "'");
    }
    String rest = uri.substring(SCHEME.length());
    String[] parts = rest.split("/", -1);
    if (parts.length != 5 || !"ns".equals(parts[1]) || !"sa".equals(parts[3])) {
      throw new IllegalArgumentException(
          "SPIFFE ID must be spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>: '" + uri + "'");
    }
    return new SpiffeId(parts[0], parts[2], parts[4]);
  }

  /**
   * The identity of a leaf certificate: it must carry exactly one URI SAN, and that SAN must be a
   * valid SPIFFE ID.
   */
  public static SpiffeId fromCertificate(X509Certificate leaf) throws SpiffeVerificationException {
    Collection<List<?>> sans;
    try {
      sans = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new SpiffeVerificationException(
          SpiffeVerificationException.Reason.BAD_SAN, "unparsable subject alternative names: " + e.getMessage());
    }
    List<String> uris = new ArrayList<>();
    if (sans != null) {
      for (List<?> san : sans) {
        if (san.size() >= 2 && Integer.valueOf(URI_SAN).equals(san.get(0))) {
          uris.add(String.valueOf(san.get(1)));
        }
      }
    }
    if (uris.size() != 1) {
      throw new SpiffeVerificationException(
          SpiffeVerificationException.Reason.BAD_SAN,
          "leaf certificate must carry exactly one URI SAN, found " + uris.size());
    }
    try {
      return parse(uris.get(0));
    } catch (IllegalArgumentException e) {
      throw new SpiffeVerificationException(SpiffeVerificationException.Reason.BAD_SAN, e.getMessage());
    }
  }

  /** Builds the identity of a namespace's service account. */
  public static SpiffeId of(String trustDomain, String namespace, String serviceAccount) {
    return new SpiffeId(trustDomain, namespace, serviceAccount);
  }

  /** The URI form. */
  public String uri() {
    return SCHEME + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  @Override
  public String toString() {
    return uri();
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      b.append(c < 0x20 || c > 0x7e ? '?' : c);
    }
    return b.toString();
  }
}

package dev.capstan.core.identity;

import java.security.cert.CertificateException;

/** A peer certificate that is not an acceptable mesh identity, with a reason for metrics and logs. */
public final class SpiffeVerificationException extends CertificateException {

  /** Why a certificate was refused; the metric label is {@link #label()}. */
  public enum Reason {
    NO_CERTIFICATE("no_certificate"),
    UNTRUSTED_CHAIN("untrusted_chain"),
    EXPIRED("expired"),
    BAD_SAN("bad_san"),
    FOREIGN_TRUST_DOMAIN("foreign_trust_domain"),
    LEAF_IS_CA("leaf_is_ca");

    private final String label;

    Reason(String label) {
      this.label = label;
    }

    /** The metric label value. */
    public String label() {
      return label;
    }
  }

  private final Reason reason;

  public SpiffeVerificationException(Reason reason, String message) {
    super(reason.label() + ": " + message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}

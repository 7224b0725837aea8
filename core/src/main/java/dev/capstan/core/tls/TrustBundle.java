package dev.capstan.core.tls;

import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The roots peers' chains must lead to. Replaceable at run time: handshakes read the current
 * roots, so a rotated bundle applies to new connections without rebuilding SSL contexts.
 */
public final class TrustBundle {

  private volatile List<X509Certificate> roots;
  private volatile Set<TrustAnchor> anchors;

  public TrustBundle(List<X509Certificate> roots) {
    replace(roots);
  }

  /** Replaces the roots. */
  public void replace(List<X509Certificate> newRoots) {
    if (newRoots.isEmpty()) {
      throw new IllegalArgumentException("trust bundle has no root certificate");
    }
    this.anchors = newRoots.stream().map(r -> new TrustAnchor(r, null)).collect(Collectors.toUnmodifiableSet());
    this.roots = List.copyOf(newRoots);
  }

  public List<X509Certificate> roots() {
    return roots;
  }

  Set<TrustAnchor> anchors() {
    return anchors;
  }
}

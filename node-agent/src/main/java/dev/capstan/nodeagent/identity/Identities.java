package dev.capstan.nodeagent.identity;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.Pem;
import dev.capstan.core.tls.TrustBundle;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificates of the identities of this node's workloads, with their SSL contexts built.
 *
 * <p>They come either from the controller's CA ({@link #install}/{@link #remove}, called by the
 * certificate manager) or from a directory laid out as {@code root-cert.pem} and {@code
 * <namespace>/<service-account>/cert-chain.pem} + {@code key.pem}. Either way the work runs off the
 * data path (start-up, config changes, a periodic tick); the data path only reads the map. The
 * trust bundle's file is re-read on every {@link #refresh} when it changed.
 */
public final class Identities {

  private static final Logger LOG = LoggerFactory.getLogger(Identities.class);
  private static final String ROOT = "root-cert.pem";

  /** An identity ready for use: its key and both SSL contexts. */
  public record Entry(CertifiedKey key, SslContext server, SslContext client, String fingerprint) {}

  private final Optional<Path> dir;
  private final Path rootFile;
  private final TrustBundle bundle;
  private final MeshTls tls;
  private final Map<SpiffeId, Entry> entries = new ConcurrentHashMap<>();
  private final Runnable onLoadError;
  private String rootFingerprint;
  private FileStamp rootStamp;

  /** Certificates from files in {@code dir}, the root in {@code dir/root-cert.pem}. */
  public Identities(Path dir, TrustBundle bundle, MeshTls tls, Runnable onLoadError) {
    this(Optional.of(dir), dir.resolve(ROOT), bundle, tls, onLoadError);
  }

  /** Certificates installed by the CA client; the root from {@code rootFile}. */
  public static Identities fromCa(Path rootFile, TrustBundle bundle, MeshTls tls, Runnable onLoadError) {
    return new Identities(Optional.empty(), rootFile, bundle, tls, onLoadError);
  }

  private Identities(Optional<Path> dir, Path rootFile, TrustBundle bundle, MeshTls tls, Runnable onLoadError) {
    this.dir = dir;
    this.rootFile = rootFile;
    this.bundle = bundle;
    this.tls = tls;
    this.onLoadError = onLoadError;
  }

  /** Reads the trust bundle of a certificate directory (fails start-up when missing). */
  public static TrustBundle readBundle(Path dir) throws IOException, GeneralSecurityException {
    return readRoot(dir.resolve(ROOT));
  }

  /** Reads a trust bundle file (fails start-up when missing). */
  public static TrustBundle readRoot(Path rootFile) throws IOException, GeneralSecurityException {
    return new TrustBundle(Pem.certificates(Files.readString(rootFile, StandardCharsets.US_ASCII)));
  }

  /**
   * Installs a certificate the CA issued (it was checked against the root and the identity by
   * the CA client) and builds its contexts.
   */
  public void install(CertifiedKey key) {
    try {
      entries.put(key.identity(), new Entry(key, tls.server(key), tls.client(key), key.notAfter().toString()));
      LOG.info("certificate for {} installed, expires {}", key.identity(), key.notAfter());
    } catch (javax.net.ssl.SSLException | RuntimeException e) {
      LOG.error("certificate for {} from the CA cannot be used: {}", key.identity(), e.getMessage());
      onLoadError.run();
    }
  }

  /** Forgets an identity (its last workload left, or its certificate expired). */
  public void remove(SpiffeId id) {
    if (entries.remove(id) != null) {
      LOG.info("certificate for {} removed", id);
    }
  }

  /** The identity's certificate and contexts, if loaded. */
  public Optional<Entry> get(SpiffeId id) {
    return Optional.ofNullable(entries.get(id));
  }

  public Collection<Entry> all() {
    return List.copyOf(entries.values());
  }

  /** Loads or reloads the wanted identities and forgets the others. Not for the data path. */
  public synchronized void refresh(Set<SpiffeId> wanted) {
    refreshBundle();
    if (dir.isEmpty()) {
      return;
    }
    entries.keySet().retainAll(wanted);
    for (SpiffeId id : wanted) {
      Path certFile = dir.get().resolve(id.namespace()).resolve(id.serviceAccount()).resolve("cert-chain.pem");
      Path keyFile = certFile.resolveSibling("key.pem");
      try {
        if (!Files.exists(certFile) || !Files.exists(keyFile)) {
          if (entries.remove(id) != null || !missingLogged.contains(id)) {
            LOG.warn("no certificate for {} (expected {} and {}): its workloads cannot send or receive", id, certFile, keyFile);
            missingLogged.add(id);
            onLoadError.run();
          }
          continue;
        }
        FileStamp stamp = FileStamp.of(certFile, keyFile);
        if (stamp.equals(stamps.get(id)) && (entries.containsKey(id) || rejected.containsKey(id))) {
          continue;
        }
        stamps.put(id, stamp);
        String certPem = Files.readString(certFile, StandardCharsets.US_ASCII);
        String keyPem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        String fingerprint = sha256(certPem + keyPem);
        Entry old = entries.get(id);
        if ((old != null && old.fingerprint().equals(fingerprint)) || fingerprint.equals(rejected.get(id))) {
          continue;
        }
        rejected.put(id, fingerprint);
        List<X509Certificate> chain = Pem.certificates(certPem);
        SpiffeId named = tls.trustManager().verify(chain.toArray(new X509Certificate[0]));
        if (!named.equals(id)) {
          throw new GeneralSecurityException("certificate names " + named + ", not " + id);
        }
        CertifiedKey key = new CertifiedKey(id, Pem.privateKey(keyPem), chain);
        entries.put(id, new Entry(key, tls.server(key), tls.client(key), fingerprint));
        missingLogged.remove(id);
        rejected.remove(id);
        LOG.info("certificate for {} loaded, expires {}", id, key.notAfter());
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        LOG.error("certificate for {} in {} rejected: {}", id, certFile.getParent(), e.getMessage());
        onLoadError.run();
      }
    }
  }

  private static String sha256(String text) {
    try {
      return java.util.HexFormat.of().formatHex(
          java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Modification times and sizes of the files last read, so an unchanged file is not re-read. */
  private record FileStamp(long certModified, long certSize, long keyModified, long keySize) {
    static FileStamp of(Path cert, Path key) throws IOException {
      return new FileStamp(Files.getLastModifiedTime(cert).toMillis(), Files.size(cert),
          Files.getLastModifiedTime(key).toMillis(), Files.size(key));
    }
  }

  private final Map<SpiffeId, FileStamp> stamps = new ConcurrentHashMap<>();

  /** Files already rejected, by content hash, so a bad file is reported once, not every tick. */
  private final Map<SpiffeId, String> rejected = new ConcurrentHashMap<>();

  private final Set<SpiffeId> missingLogged = ConcurrentHashMap.newKeySet();

  private void refreshBundle() {
    Path root = rootFile;
    try {
      FileStamp stamp = FileStamp.of(root, root);
      if (stamp.equals(rootStamp)) {
        return;
      }
      rootStamp = stamp;
      String pem = Files.readString(root, StandardCharsets.US_ASCII);
      String fingerprint = sha256(pem);
      if (!fingerprint.equals(rootFingerprint)) {
        bundle.replace(Pem.certificates(pem));
        if (rootFingerprint != null) {
          LOG.info("trust bundle {} reloaded", root);
        }
        rootFingerprint = fingerprint;
      }
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      LOG.error("trust bundle {} rejected, keeping the current one: {}", root, e.getMessage());
      onLoadError.run();
    }
  }
}

package dev.capstan.controller.ca;

import dev.capstan.core.tls.Pem;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root in a directory: {@code root-cert.pem} and {@code root-key.pem} (mode 0600). Loaded if
 * present, otherwise made and written, each file through a temporary file and an atomic rename.
 * Creation holds a lock file ({@code .lock}) so controllers sharing the directory make one root;
 * the certificate is written last and is what marks the root as complete.
 */
public final class FileCaStore implements CaSource {

  private static final Logger LOG = LoggerFactory.getLogger(FileCaStore.class);
  private static final ConcurrentMap<Path, Object> LOCKS = new ConcurrentHashMap<>();

  public static final String CERT_FILE = "root-cert.pem";
  public static final String KEY_FILE = "root-key.pem";

  private final Path dir;
  private final String trustDomain;
  private final Duration rootValidity;
  private final Clock clock;

  public FileCaStore(Path dir, String trustDomain, Duration rootValidity, Clock clock) {
    this.dir = dir.toAbsolutePath().normalize();
    this.trustDomain = trustDomain;
    this.rootValidity = rootValidity;
    this.clock = clock;
  }

  @Override
  public SigningCa signingCa() {
    Path cert = dir.resolve(CERT_FILE);
    Path key = dir.resolve(KEY_FILE);
    try {
      if (Files.exists(cert)) {
        return load(cert, key);
      }
      Files.createDirectories(dir);
      // One JVM cannot take the same file lock twice: serialize in-process callers first.
      synchronized (LOCKS.computeIfAbsent(dir, d -> new Object())) {
        try (FileChannel channel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          FileLock lock = channel.lock(); // released when the channel closes
          LOG.debug("holding {}", lock);
          if (Files.exists(cert)) {
            return load(cert, key);
          }
          SigningCa ca = SigningCa.selfSigned(trustDomain, clock, rootValidity);
          writeAtomically(key, Pem.encodeKey(ca.key()), true);
          writeAtomically(cert, ca.rootPem(), false);
          LOG.info("CA root created in {}: {}, valid until {}", dir, ca.root().getSubjectX500Principal(), ca.root().getNotAfter().toInstant());
          return ca;
        }
      }
    } catch (IOException e) {
      throw new CaStoreException("CA directory " + dir + ": " + e, e);
    }
  }

  private SigningCa load(Path cert, Path key) throws IOException {
    if (!Files.exists(key)) {
      throw new CaStoreException("CA directory " + dir + " has " + CERT_FILE + " but no " + KEY_FILE);
    }
    SigningCa ca = SigningCa.fromPem(
        Files.readString(cert, StandardCharsets.US_ASCII), Files.readString(key, StandardCharsets.US_ASCII), dir.toString());
    LOG.info("CA root loaded from {}: {}, valid until {}", dir, ca.root().getSubjectX500Principal(), ca.root().getNotAfter().toInstant());
    return ca;
  }

  private static void writeAtomically(Path target, String text, boolean secret) throws IOException {
    Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
    try {
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("cannot write " + target + " atomically: " + e.getMessage(), e);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}

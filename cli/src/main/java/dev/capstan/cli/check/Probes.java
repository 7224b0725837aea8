package dev.capstan.cli.check;

import dev.capstan.cli.remote.Http;
import dev.capstan.redirect.probe.CaptureProbe;
import java.net.URI;
import java.util.Optional;

/**
 * What {@code capstan check} asks the machine, one method per probe, so tests can answer instead
 * ({@link SystemProbes} asks the real kernel, sockets and endpoints).
 */
public interface Probes {

  /** nftables installed and usable, the kernel's nft {@code tproxy}, policy routing, {@code tcp_migrate_req}: the redirect's own probe. */
  CaptureProbe.Report capture();

  /** Where the iptables {@code TPROXY} target ({@code xt_TPROXY}) is ("loaded", "a kernel module ..."); empty when nowhere. */
  Optional<String> xtTproxy();

  /** Sets {@code IP_TRANSPARENT} on a fresh socket: empty when the kernel allowed it, else its error. */
  Optional<String> ipTransparent();

  /** Sets {@code SO_MARK} on a fresh socket: empty when the kernel allowed it, else its error. */
  Optional<String> soMark();

  /** Whether this process holds {@code CAP_NET_ADMIN} (root has it): without it the kernel refuses the two options above. */
  boolean netAdmin();

  /** The JDK this runs on. */
  Runtime.Version java();

  /** Why Netty's native epoll transport is unavailable; empty when it loaded. */
  Optional<String> epollUnavailable();

  /** Why BoringSSL (netty-tcnative) is unavailable; empty when it loaded. */
  Optional<String> boringSslUnavailable();

  /** Whether TCP {@code port} can be bound on every address (nothing listens there). */
  boolean portFree(int port);

  /**
   * GETs {@code uri}, whatever its status.
   *
   * @throws dev.capstan.cli.CliException when it cannot be reached (the message says why)
   */
  Http.Answer get(URI uri, String what);
}

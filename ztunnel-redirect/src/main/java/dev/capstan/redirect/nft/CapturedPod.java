package dev.capstan.redirect.nft;

import java.net.Inet4Address;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One IPv4 address of an enrolled workload on this node, with the host-side interface its traffic
 * arrives on.
 *
 * @param workload {@code namespace/name}, for logs
 * @param ip the pod IP
 * @param iface the host-side interface (the pod's veth), or empty while the pod is not attached yet:
 *     its inbound traffic is captured, its outbound traffic and anti-spoofing wait for the interface
 * @param waiting why there is no interface (empty when there is one)
 */
public record CapturedPod(String workload, Inet4Address ip, Optional<String> iface, String waiting) {

  /** Linux interface names: at most 15 bytes; we accept the characters CNIs use. */
  private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.@:\\-]{1,15}");

  public CapturedPod {
    Objects.requireNonNull(workload, "workload");
    Objects.requireNonNull(ip, "ip");
    Objects.requireNonNull(iface, "iface");
    Objects.requireNonNull(waiting, "waiting");
    iface.ifPresent(name -> {
      if (!IFNAME.matcher(name).matches()) {
        throw new IllegalArgumentException("not an interface name: '" + name + "'");
      }
    });
  }

  /** A pod whose traffic arrives on {@code iface}. */
  public static CapturedPod attached(String workload, Inet4Address ip, String iface) {
    return new CapturedPod(workload, ip, Optional.of(iface), "");
  }

  /** A pod without a usable interface yet, and why. */
  public static CapturedPod waiting(String workload, Inet4Address ip, String reason) {
    return new CapturedPod(workload, ip, Optional.empty(), reason);
  }

  public String address() {
    return ip.getHostAddress();
  }
}

package dev.capstan.cli.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.cli.remote.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The real probes on this machine. As root (CI) the kernel and runtime checks pass: nftables,
 * its tproxy, policy routing, IP_TRANSPARENT and SO_MARK. Not as root, a loud SKIP line says so.
 * The ports are not asserted: other processes on a shared machine may hold them.
 */
class SystemProbesTest {

  @Test
  void as_root_this_machine_passes_the_kernel_and_runtime_checks() {
    SystemProbes probes = new SystemProbes();
    boolean root = probes.netAdmin();
    if (!root) {
      System.out.println("SKIP SystemProbesTest: not root (no CAP_NET_ADMIN): the real kernel probes cannot pass here");
    }
    Assumptions.assumeTrue(root, "needs CAP_NET_ADMIN");

    List<Check> checks = new Checks(probes).run(true, Endpoint.parse("127.0.0.1:15000"));

    Map<String, Check.Status> status = checks.stream()
        .filter(c -> !c.group().equals(Checks.PORTS))
        .collect(Collectors.toMap(Check::name, Check::status));
    assertThat(status).as(checks.toString()).containsEntry("nftables installed", Check.Status.OK)
        .containsEntry("nftables usable", Check.Status.OK)
        .containsEntry("nftables tproxy (TPROXY)", Check.Status.OK)
        .containsEntry("policy routing", Check.Status.OK)
        .containsEntry("IP_TRANSPARENT settable", Check.Status.OK)
        .containsEntry("SO_MARK settable", Check.Status.OK)
        .containsEntry("JDK 17 or newer", Check.Status.OK)
        .containsEntry("native epoll transport", Check.Status.OK)
        .doesNotContainKey("privileges");
    assertThat(checks.stream().filter(c -> c.group().equals(Checks.PORTS)).map(Check::name))
        .containsExactly("15000 (admin)", "15001 (outbound capture)", "15006 (inbound plaintext capture)", "15008 (HBONE)",
            "15020 (metrics)", "15021 (readiness)");
  }

  @Test
  void a_port_someone_listens_on_is_not_free() throws Exception {
    SystemProbes probes = new SystemProbes();
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThat(probes.portFree(s.getLocalPort())).isFalse();
    }
  }
}

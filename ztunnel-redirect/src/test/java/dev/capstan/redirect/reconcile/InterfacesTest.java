package dev.capstan.redirect.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.redirect.nft.CapturedPod;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class InterfacesTest {

  private static Inet4Address ip(String s) throws UnknownHostException {
    return (Inet4Address) InetAddress.getByName(s);
  }

  @Test
  void pod_routed_to_its_veth_is_attached_to_that_interface() throws Exception {
    CapturedPod p = Interfaces.parse("ns/web", ip("10.1.0.2"), "10.1.0.2 dev cali1234abcd src 10.0.0.5 uid 0 \\    cache \n");

    assertThat(p.iface()).contains("cali1234abcd");
  }

  @Test
  void pod_routed_via_a_gateway_waits_with_the_reason() throws Exception {
    CapturedPod p = Interfaces.parse("ns/web", ip("10.1.0.2"), "10.1.0.2 via 192.168.1.1 dev eth0 src 192.168.1.5 uid 0 \\    cache");

    assertThat(p.iface()).isEmpty();
    assertThat(p.waiting()).contains("via gateway 192.168.1.1");
  }

  @Test
  void address_local_to_the_node_is_not_a_pod_interface() throws Exception {
    CapturedPod p = Interfaces.parse("ns/web", ip("10.1.0.2"), "local 10.1.0.2 dev lo src 10.1.0.2 uid 0 \\    cache <local>");

    assertThat(p.iface()).isEqualTo(Optional.empty());
    assertThat(p.waiting()).contains("type 'local'");
  }

  @Test
  void interface_name_that_nft_could_misread_is_refused() throws Exception {
    CapturedPod p = Interfaces.parse("ns/web", ip("10.1.0.2"), "10.1.0.2 dev we\"ird src 10.0.0.5");

    assertThat(p.iface()).isEmpty();
    assertThat(p.waiting()).contains("not an interface name");
  }
}

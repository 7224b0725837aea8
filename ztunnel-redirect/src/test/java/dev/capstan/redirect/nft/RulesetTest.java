package dev.capstan.redirect.nft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.redirect.config.RedirectConfig;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RulesetTest {

  private static final RedirectConfig.Capture DEFAULTS = RedirectConfig.Capture.defaults();

  static Inet4Address ip(String s) {
    try {
      return (Inet4Address) InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Test
  void script_replaces_the_table_in_one_transaction() {
    String script = Ruleset.render("capstan", DEFAULTS, List.of());

    List<String> statements = script.lines().filter(l -> !l.startsWith("#")).limit(3).toList();
    assertThat(statements).containsExactly("table ip capstan {}", "delete table ip capstan", "table ip capstan {");
  }

  @Test
  void no_pods_renders_empty_sets_and_every_rule() {
    String script = Ruleset.render("capstan", DEFAULTS, List.of());

    assertThat(script).doesNotContain("elements");
    assertThat(script).contains("set pods {\n    type ipv4_addr\n  }");
    assertThat(script).contains("counter name no_agent reject with tcp reset");
    for (String counter : Ruleset.COUNTERS) {
      assertThat(script).contains("counter " + counter + " {}");
    }
  }

  @Test
  void one_pod_is_captured_both_ways_and_protected_from_spoofing() {
    String script = Ruleset.render("capstan", DEFAULTS, List.of(CapturedPod.attached("shop/web", ip("10.1.0.2"), "vpod1")));

    assertThat(script)
        .contains("set pods {\n    type ipv4_addr\n    elements = { 10.1.0.2 }\n  }")
        .contains("elements = { \"vpod1\" . 10.1.0.2 }")
        .contains("set pod_ifaces {\n    type ifname\n    elements = { \"vpod1\" }\n  }")
        .contains("iifname @pod_ifaces iifname . ip saddr != @pod_sources counter name spoofed drop")
        .contains("iifname . ip saddr @pod_sources meta l4proto tcp tproxy ip to 127.0.0.1:15001 meta mark set 0x100000"
            + " counter name captured_outbound accept")
        .contains("ip daddr @pods tcp dport 15008 tproxy ip to 127.0.0.1:15008 meta mark set 0x100000"
            + " counter name captured_hbone accept")
        .contains("ip daddr @pods meta l4proto tcp tproxy ip to 127.0.0.1:15006 meta mark set 0x100000"
            + " counter name captured_inbound accept");
  }

  @Test
  void every_capture_rule_is_followed_by_its_fail_closed_reject() {
    List<String> rules = Ruleset.render("capstan", DEFAULTS, List.of()).lines().map(String::strip)
        .filter(l -> l.contains("tproxy") || l.contains("reject")).toList();

    assertThat(rules).hasSize(6);
    for (int i = 0; i < rules.size(); i += 2) {
      String match = rules.get(i).substring(0, rules.get(i).indexOf(" tproxy "));
      assertThat(rules.get(i + 1)).isEqualTo(match + " counter name no_agent reject with tcp reset");
    }
  }

  @Test
  void exemptions_come_before_capture() {
    List<String> rules = Ruleset.render("capstan", DEFAULTS, List.of()).lines().map(String::strip)
        .filter(l -> !l.startsWith("#")).toList();

    int agent = rules.indexOf("ct mark & 0x200000 == 0x200000 meta mark set 0x100000 accept");
    int reply = rules.indexOf("ct direction reply accept");
    int firstCapture = rules.indexOf(rules.stream().filter(l -> l.contains("tproxy")).findFirst().orElseThrow());
    assertThat(agent).isPositive().isLessThan(firstCapture);
    assertThat(reply).isPositive().isLessThan(firstCapture);
    assertThat(rules).contains("meta mark & 0x200000 == 0x200000 ct mark set ct mark | 0x200000");
  }

  @Test
  void many_pods_render_sorted_by_address_whatever_the_input_order() {
    List<CapturedPod> pods = List.of(
        CapturedPod.attached("a/x", ip("10.1.0.10"), "vx"),
        CapturedPod.attached("a/y", ip("10.1.0.9"), "vy"),
        CapturedPod.attached("a/z", ip("9.255.0.1"), "vz"));

    String script = Ruleset.render("capstan", DEFAULTS, pods);

    assertThat(script).contains("elements = { 9.255.0.1, 10.1.0.9, 10.1.0.10 }");
    assertThat(script).contains("elements = { \"vz\" . 9.255.0.1, \"vy\" . 10.1.0.9, \"vx\" . 10.1.0.10 }");
    assertThat(script).isEqualTo(Ruleset.render("capstan", DEFAULTS, List.of(pods.get(2), pods.get(0), pods.get(1))));
  }

  @Test
  void pod_without_interface_is_captured_inbound_only() {
    String script = Ruleset.render("capstan", DEFAULTS, List.of(
        CapturedPod.attached("a/x", ip("10.1.0.2"), "vx"),
        CapturedPod.waiting("a/y", ip("10.1.0.3"), "no route")));

    assertThat(script).contains("elements = { 10.1.0.2, 10.1.0.3 }");
    assertThat(script).contains("elements = { \"vx\" . 10.1.0.2 }");
    assertThat(script).contains("elements = { \"vx\" }");
  }

  @Test
  void marks_ports_address_and_table_come_from_config() throws Exception {
    RedirectConfig.Capture c = new RedirectConfig.Capture(ip("127.0.0.2"), 25001, 25006, 25008, 0x10, 0x20, 77);

    String script = Ruleset.render("mesh", c, List.of());

    assertThat(script).contains("table ip mesh {")
        .contains("tproxy ip to 127.0.0.2:25001 meta mark set 0x10 ")
        .contains("tcp dport 25008 tproxy ip to 127.0.0.2:25008 meta mark set 0x10 ")
        .contains("tproxy ip to 127.0.0.2:25006 meta mark set 0x10 ")
        .contains("ct mark & 0x20 == 0x20 meta mark set 0x10 accept")
        .doesNotContain("15001").doesNotContain("0x100000");
  }

  @Test
  void listing_normalization_ignores_counter_values_and_layout() {
    String a = "table ip capstan {\n\tcounter spoofed {\n\t\tpackets 0 bytes 0\n\t}\n\n\tset pods {\n\t\telements = { 10.1.0.2,\n\t\t\t     10.1.0.3 }\n\t}\n}\n";
    String b = "table ip capstan {\n\tcounter spoofed {\n\t\tpackets 12 bytes 720\n\t}\n\tset pods {\n\t\telements = { 10.1.0.2,\n\t\t\t10.1.0.3 }\n\t}\n}\n";

    assertThat(Listing.normalize(a)).isEqualTo(Listing.normalize(b));
    assertThat(Listing.packets(b)).containsEntry("spoofed", 12L);
    assertThat(Listing.normalize(a)).isNotEqualTo(Listing.normalize(a.replace("10.1.0.3", "10.1.0.4")));
  }
}

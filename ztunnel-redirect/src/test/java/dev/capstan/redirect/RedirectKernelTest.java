package dev.capstan.redirect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.Workload;
import dev.capstan.redirect.config.RedirectConfig;
import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.exec.ProcessCommands;
import dev.capstan.redirect.nft.CapturedPod;
import dev.capstan.redirect.nft.Listing;
import dev.capstan.redirect.nft.Ruleset;
import dev.capstan.redirect.probe.CaptureProbe;
import dev.capstan.redirect.reconcile.Reconciler;
import dev.capstan.redirect.reconcile.Reconciler.Action;
import dev.capstan.redirect.testing.Listeners;
import dev.capstan.redirect.testing.Netns;
import dev.capstan.redirect.testing.NetnsExtension;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The reconciler against a real kernel, in throwaway network namespaces (root only). */
@ExtendWith(NetnsExtension.class)
class RedirectKernelTest {

  private static final RedirectConfig CONFIG =
      RedirectConfig.parse("node: node1\nmesh: mesh.yaml\n", "test", Path.of("."));

  private static Workload pod(String name, String... ips) {
    return new Workload(name, name, "shop", "default", List.of(ips), "node1", Map.of(), null);
  }

  private static Optional<List<Workload>> mesh(Workload... workloads) {
    return Optional.of(List.of(workloads));
  }

  private static String listing(Netns ns) {
    return ns.run("nft", "list", "table", "ip", "capstan").stdout();
  }

  @Test
  void rendered_scripts_for_zero_one_and_many_pods_are_valid_nftables(Netns ns) throws Exception {
    List<CapturedPod> many = new ArrayList<>();
    for (int i = 2; i < 50; i++) {
      Inet4Address ip = (Inet4Address) InetAddress.getByName("10.1.0." + i);
      many.add(i % 3 == 0 ? CapturedPod.waiting("a/p" + i, ip, "no route") : CapturedPod.attached("a/p" + i, ip, "v" + i));
    }
    for (List<CapturedPod> pods : List.of(List.<CapturedPod>of(), many.subList(0, 1), many)) {
      Commands.Result r = ns.commands().run(List.of("nft", "-c", "-f", "-"), Ruleset.render("capstan", CONFIG.capture(), pods));
      assertThat(r.ok()).as("nft -c for %d pods: %s", pods.size(), r.stderr()).isTrue();
    }
  }

  @Test
  void probe_passes_in_a_fresh_namespace(Netns ns) {
    CaptureProbe.Report report = new CaptureProbe(ns.commands()).run();

    assertThat(report.ok()).as(report.failures()).isTrue();
  }

  @Test
  void reconcile_installs_the_table_policy_routing_and_tcp_migrate_req(Netns ns) {
    ns.addPod("vweb", "10.1.0.2");
    Reconciler reconciler = new Reconciler(CONFIG, ns.commands());
    reconciler.prepare();

    Reconciler.Outcome outcome = reconciler.reconcile(mesh(pod("web", "10.1.0.2"), pod("pending", "10.1.0.3")));

    assertThat(outcome).isEqualTo(new Reconciler.Outcome(Action.APPLIED, 1, 1));
    String table = listing(ns);
    assertThat(table)
        .contains("elements = { 10.1.0.2, 10.1.0.3 }")
        .contains("elements = { \"vweb\" . 10.1.0.2 }")
        .contains("iifname @pod_ifaces iifname . ip saddr != @pod_sources counter name \"spoofed\" drop")
        .contains("tproxy to 127.0.0.1:15001 meta mark set 0x00100000 counter name \"captured_outbound\" accept")
        .contains("ip daddr @pods tcp dport 15008 tproxy to 127.0.0.1:15008")
        .contains("ip daddr @pods meta l4proto tcp counter name \"no_agent\" reject with tcp reset")
        .contains("meta mark & 0x00200000 == 0x00200000 ct mark set ct mark | 0x00200000");
    assertThat(ns.run("ip", "-4", "rule", "show").stdout()).contains("fwmark 0x100000/0x100000 lookup 150");
    assertThat(ns.run("ip", "-4", "route", "show", "table", "150").stdout()).contains("local default dev lo");
    assertThat(ns.run("sysctl", "-n", "net.ipv4.tcp_migrate_req").stdout().strip()).isEqualTo("1");
  }

  @Test
  void removed_pod_leaves_the_table(Netns ns) {
    String db = ns.addPod("vdb", "10.1.0.3");
    ns.addPod("vweb", "10.1.0.2");
    Reconciler reconciler = new Reconciler(CONFIG, ns.commands());
    reconciler.reconcile(mesh(pod("web", "10.1.0.2"), pod("db", "10.1.0.3")));
    assertThat(listing(ns)).contains("\"vdb\" . 10.1.0.3");

    ns.removePod(db);
    Reconciler.Outcome outcome = reconciler.reconcile(mesh(pod("web", "10.1.0.2")));

    assertThat(outcome.action()).isEqualTo(Action.APPLIED);
    assertThat(listing(ns)).doesNotContain("10.1.0.3").doesNotContain("vdb").contains("\"vweb\" . 10.1.0.2");
  }

  @Test
  void table_deleted_or_edited_by_hand_is_repaired_and_an_untouched_one_is_left_alone(Netns ns) {
    ns.addPod("vweb", "10.1.0.2");
    Reconciler reconciler = new Reconciler(CONFIG, ns.commands());
    reconciler.reconcile(mesh(pod("web", "10.1.0.2")));
    String applied = Listing.normalize(listing(ns));

    assertThat(reconciler.reconcile(mesh(pod("web", "10.1.0.2"))).action()).isEqualTo(Action.UNCHANGED);

    ns.run("nft", "delete", "table", "ip", "capstan");
    assertThat(reconciler.reconcile(mesh(pod("web", "10.1.0.2"))).action()).isEqualTo(Action.REPAIRED_DRIFT);
    assertThat(Listing.normalize(listing(ns))).isEqualTo(applied);

    ns.run("nft", "flush", "chain", "ip", "capstan", "prerouting");
    assertThat(reconciler.reconcile(Optional.empty()).action()).isEqualTo(Action.REPAIRED_DRIFT);
    assertThat(Listing.normalize(listing(ns))).isEqualTo(applied);
  }

  @Test
  void uninstall_removes_table_rule_and_route_and_succeeds_when_nothing_is_there(Netns ns) {
    ns.addPod("vweb", "10.1.0.2");
    Reconciler reconciler = new Reconciler(CONFIG, ns.commands());
    reconciler.reconcile(mesh(pod("web", "10.1.0.2")));

    reconciler.uninstall();
    new Reconciler(CONFIG, ns.commands()).uninstall();

    assertThat(ns.run("nft", "list", "tables").stdout()).doesNotContain("capstan");
    assertThat(ns.run("ip", "-4", "rule", "show").stdout()).doesNotContain("fwmark");
    assertThat(ns.commands().run("ip", "-4", "route", "show", "table", "150").stdout()).isBlank();
  }

  /** Real traffic: a pod's connections reach the agent with their original destination, in and out. */
  @Test
  @SuppressWarnings("try") // the listener process only has to exist while the pods connect
  void pod_traffic_reaches_the_transparent_agent_listeners_with_the_original_destination(Netns ns) throws Exception {
    String web = ns.addPod("vweb", "10.1.0.2");
    String client = ns.addPod("vclient", "10.1.0.5");
    Reconciler reconciler = new Reconciler(CONFIG, ns.commands());
    reconciler.reconcile(mesh(pod("web", "10.1.0.2")));

    try (Listeners agent = Listeners.start(ns.name(), true,
        "127.0.0.1:15001:outbound", "127.0.0.1:15006:inbound", "127.0.0.1:15008:hbone")) {
      assertThat(curl(web, "http://10.2.0.9:80/").stdout()).isEqualTo("outbound 10.2.0.9:80");
      assertThat(curl(client, "http://10.1.0.2:8080/").stdout()).isEqualTo("inbound 10.1.0.2:8080");
      assertThat(curl(client, "http://10.1.0.2:15008/").stdout()).isEqualTo("hbone 10.1.0.2:15008");
    }
    Map<String, Long> counters = Listing.packets(listing(ns));
    assertThat(counters.get("captured_outbound")).isPositive();
    assertThat(counters.get("captured_inbound")).isPositive();
    assertThat(counters.get("captured_hbone")).isPositive();

    assertThat(reconciler.reconcile(mesh(pod("web", "10.1.0.2"))).action()).isEqualTo(Action.UNCHANGED);
    assertThat(Listing.packets(listing(ns)).get("captured_outbound")).isEqualTo(counters.get("captured_outbound"));
  }

  @Test
  @SuppressWarnings("try") // the server process only has to exist while the pod connects
  void without_an_agent_captured_connections_are_reset_not_forwarded(Netns ns) throws Exception {
    String web = ns.addPod("vweb", "10.1.0.2");
    ns.run("ip", "addr", "add", "10.2.0.9/32", "dev", "lo"); // a real server the pod could reach unproxied
    try (Listeners server = Listeners.start(ns.name(), false, "10.2.0.9:80:server")) {
      assertThat(curl(web, "http://10.2.0.9:80/").stdout()).as("reachable when not captured").isEqualTo("server 10.2.0.9:80");

      new Reconciler(CONFIG, ns.commands()).reconcile(mesh(pod("web", "10.1.0.2")));
      Commands.Result refused = curl(web, "http://10.2.0.9:80/");

      assertThat(refused.exitCode()).as("curl: connect refused at once (a reset), not a timeout: %s", refused.stderr())
          .isEqualTo(7);
      assertThat(Listing.packets(listing(ns)).get("no_agent")).isPositive();
    }
  }

  @Test
  void spoofed_source_from_a_pod_interface_is_dropped(Netns ns) {
    String web = ns.addPod("vweb", "10.1.0.2");
    ProcessCommands.inNetns(web).run("ip", "addr", "add", "10.1.0.66/32", "dev", "eth0").orThrow();
    new Reconciler(CONFIG, ns.commands()).reconcile(mesh(pod("web", "10.1.0.2")));

    Commands.Result r = ProcessCommands.inNetns(web).run("curl", "-sS", "--max-time", "1", "--interface", "10.1.0.66",
        "http://10.2.0.9:80/");

    assertThat(r.ok()).isFalse();
    assertThat(Listing.packets(listing(ns)).get("spoofed")).isPositive();
  }

  private static Commands.Result curl(String podNetns, String url) {
    return ProcessCommands.inNetns(podNetns).run("curl", "-sS", "--max-time", "5", url);
  }
}

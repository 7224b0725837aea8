package dev.capstan.redirect.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.redirect.exec.CommandException;
import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.probe.CaptureProbe.Status;
import dev.capstan.redirect.testing.FakeKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

class CaptureProbeTest {

  @Test
  void capable_node_passes_every_check() {
    CaptureProbe.Report report = new CaptureProbe(withNft(new FakeKernel())).run();

    assertThat(report.ok()).isTrue();
    assertThat(report.checks()).extracting(CaptureProbe.Check::name)
        .containsExactly("nftables", "nftables usable", "tproxy", "policy routing", "tcp_migrate_req");
  }

  @Test
  void missing_nft_says_to_install_nftables() {
    CaptureProbe.Report report = new CaptureProbe((argv, stdin) -> {
      throw new CommandException("cannot run nft: No such file or directory");
    }).run();

    assertThat(report.ok()).isFalse();
    assertThat(report.failures()).startsWith("FAIL nftables:").contains("install nftables");
  }

  @Test
  void kernel_without_tproxy_names_the_missing_config() {
    Commands kernel = withNft((argv, stdin) -> argv.equals(List.of("nft", "-f", "-"))
        ? new Commands.Result(argv, 1, "", "Error: Could not process rule: No such file or directory")
        : new FakeKernel().run(argv, stdin));

    CaptureProbe.Report report = new CaptureProbe(kernel).run();

    assertThat(report.ok()).isFalse();
    assertThat(report.failures()).contains("FAIL tproxy: kernel lacks nft_tproxy (CONFIG_NFT_TPROXY)");
  }

  @Test
  void unprivileged_user_is_told_to_run_as_root() {
    Commands kernel = (argv, stdin) -> argv.get(1).equals("--version")
        ? new Commands.Result(argv, 0, "nftables v1.0.6", "")
        : new Commands.Result(argv, 1, "", "Error: Operation not permitted");

    CaptureProbe.Report report = new CaptureProbe(kernel).run();

    assertThat(report.checks()).extracting(CaptureProbe.Check::status).containsExactly(Status.OK, Status.FAIL);
    assertThat(report.failures()).contains("run as root or with CAP_NET_ADMIN");
  }

  /** The fake kernel plus the probe's own nft calls. */
  private static Commands withNft(Commands rest) {
    return (argv, stdin) -> switch (String.join(" ", argv)) {
      case "nft --version" -> new Commands.Result(argv, 0, "nftables v1.0.6\n", "");
      case "nft list tables" -> new Commands.Result(argv, 0, "", "");
      case "ip -4 rule list" -> new Commands.Result(argv, 0, "0: from all lookup local\n", "");
      default -> rest.run(argv, stdin);
    };
  }
}

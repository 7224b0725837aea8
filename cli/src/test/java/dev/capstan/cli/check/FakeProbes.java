package dev.capstan.cli.check;

import dev.capstan.cli.CliException;
import dev.capstan.cli.remote.Http;
import dev.capstan.redirect.probe.CaptureProbe;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Probes that answer what a test sets: by default a healthy root machine with every port free and no agent. */
final class FakeProbes implements Probes {

  List<CaptureProbe.Check> capture = new ArrayList<>(List.of(
      new CaptureProbe.Check("nftables", CaptureProbe.Status.OK, "nftables v1.0.6"),
      new CaptureProbe.Check("nftables usable", CaptureProbe.Status.OK, "nft can read the ruleset"),
      new CaptureProbe.Check("tproxy", CaptureProbe.Status.OK, "the kernel accepts nftables tproxy rules"),
      new CaptureProbe.Check("policy routing", CaptureProbe.Status.OK, "ip rules are available"),
      new CaptureProbe.Check("tcp_migrate_req", CaptureProbe.Status.OK, "available (currently 0)")));
  Optional<String> xtTproxy = Optional.of("loaded (/proc/net/ip_tables_targets)");
  Optional<String> ipTransparent = Optional.empty();
  Optional<String> soMark = Optional.empty();
  boolean netAdmin = true;
  Runtime.Version java = Runtime.Version.parse("17.0.15");
  Optional<String> epoll = Optional.empty();
  Optional<String> boringSsl = Optional.empty();
  Set<Integer> taken = new HashSet<>();
  /** URL → answer; a URL not here is unreachable. */
  Map<String, Http.Answer> answers = new HashMap<>();

  @Override
  public CaptureProbe.Report capture() {
    return new CaptureProbe.Report(capture);
  }

  @Override
  public Optional<String> xtTproxy() {
    return xtTproxy;
  }

  @Override
  public Optional<String> ipTransparent() {
    return ipTransparent;
  }

  @Override
  public Optional<String> soMark() {
    return soMark;
  }

  @Override
  public boolean netAdmin() {
    return netAdmin;
  }

  @Override
  public Runtime.Version java() {
    return java;
  }

  @Override
  public Optional<String> epollUnavailable() {
    return epoll;
  }

  @Override
  public Optional<String> boringSslUnavailable() {
    return boringSsl;
  }

  @Override
  public boolean portFree(int port) {
    return !taken.contains(port);
  }

  @Override
  public Http.Answer get(URI uri, String what) {
    Http.Answer a = answers.get(uri.toString());
    if (a == null) {
      throw new CliException("cannot reach " + what + " at " + uri + ": connection refused. hint");
    }
    return a;
  }
}

package dev.capstan.cli.check;

import dev.capstan.cli.remote.Hints;
import dev.capstan.cli.remote.Http;
import dev.capstan.core.io.Transport;
import dev.capstan.redirect.exec.CommandException;
import dev.capstan.redirect.exec.Commands;
import dev.capstan.redirect.exec.ProcessCommands;
import dev.capstan.redirect.probe.CaptureProbe;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The real probes: the redirect's {@link CaptureProbe} (which creates and deletes a throwaway
 * nftables table in one transaction, so the ruleset is never changed), socket options set on
 * sockets that are never bound, a bind attempt per port, {@code /proc} for capabilities and the
 * iptables targets, and HTTP GETs with a 5-second bound.
 */
public final class SystemProbes implements Probes {

  /** {@code CAP_NET_ADMIN}'s bit in {@code CapEff}. */
  private static final int CAP_NET_ADMIN = 12;
  private static final int MARK = 0x539; // any value: only whether the kernel accepts it matters

  private final Commands commands;
  private final Http http = new Http(Duration.ofSeconds(5));

  public SystemProbes() {
    this(ProcessCommands.local());
  }

  public SystemProbes(Commands commands) {
    this.commands = commands;
  }

  @Override
  public CaptureProbe.Report capture() {
    return new CaptureProbe(commands).run();
  }

  @Override
  public Optional<String> xtTproxy() {
    if (read(Path.of("/proc/net/ip_tables_targets")).lines().anyMatch("TPROXY"::equals)) {
      return Optional.of("loaded (/proc/net/ip_tables_targets)");
    }
    try {
      Commands.Result r = commands.run("modinfo", "-F", "filename", "xt_TPROXY");
      if (r.ok() && !r.stdout().isBlank()) {
        String where = r.stdout().strip();
        return Optional.of(where.startsWith("(builtin)") ? "built into the kernel" : "a kernel module (" + where + "), loaded on first use");
      }
    } catch (CommandException missing) {
      // no modinfo: the kernel's list of built-in modules may still say
    }
    String release = System.getProperty("os.version", "");
    if (read(Path.of("/lib/modules", release, "modules.builtin")).contains("xt_TPROXY.ko")) {
      return Optional.of("built into the kernel");
    }
    return Optional.empty();
  }

  @Override
  public Optional<String> ipTransparent() {
    return trySet(EpollServerSocketChannel::new, EpollChannelOption.IP_TRANSPARENT, true);
  }

  @Override
  public Optional<String> soMark() {
    return trySet(EpollSocketChannel::new, Transport.SO_MARK, MARK);
  }

  /** Sets {@code option} on a new, never registered native socket, then closes it. */
  private static <T> Optional<String> trySet(Supplier<Channel> socket, ChannelOption<T> option, T value) {
    if (!Epoll.isAvailable()) {
      return Optional.of("Netty's native epoll transport did not load (" + Epoll.unavailabilityCause() + ")");
    }
    Channel channel;
    try {
      channel = socket.get();
    } catch (ChannelException e) {
      return Optional.of("cannot open a socket: " + e.getMessage());
    }
    try {
      return channel.config().setOption(option, value) ? Optional.empty() : Optional.of("the socket does not know the option");
    } catch (ChannelException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return Optional.of(String.valueOf(cause.getMessage()));
    } finally {
      channel.unsafe().closeForcibly();
    }
  }

  @Override
  public boolean netAdmin() {
    return read(Path.of("/proc/self/status")).lines()
        .filter(l -> l.startsWith("CapEff:"))
        .findFirst()
        .map(l -> {
          try {
            return (Long.parseUnsignedLong(l.substring("CapEff:".length()).strip(), 16) & (1L << CAP_NET_ADMIN)) != 0;
          } catch (NumberFormatException e) {
            return false;
          }
        })
        .orElse(false);
  }

  @Override
  public Runtime.Version java() {
    return Runtime.version();
  }

  @Override
  public Optional<String> epollUnavailable() {
    return Epoll.isAvailable() ? Optional.empty() : Optional.of(String.valueOf(Epoll.unavailabilityCause()));
  }

  @Override
  public Optional<String> boringSslUnavailable() {
    return OpenSsl.isAvailable() ? Optional.empty() : Optional.of(String.valueOf(OpenSsl.unavailabilityCause()));
  }

  @Override
  public boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  @Override
  public Http.Answer get(URI uri, String what) {
    return http.get(uri, what, Hints.ADMIN);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}

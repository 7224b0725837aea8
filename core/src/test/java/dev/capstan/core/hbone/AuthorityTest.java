package dev.capstan.core.hbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HBONE {@code :authority}: a literal IP and a port, nothing else. A name must never be
 * resolved: {@code localhost} would resolve to a loopback address, so an empty result for it shows
 * that no lookup happened.
 */
class AuthorityTest {

  private static InetSocketAddress address(String literal, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(literal), port);
  }

  static Stream<Arguments> acceptedAuthorities() {
    return Stream.of(
        argumentSet("IPv4", "10.0.0.1:80", "10.0.0.1", 80),
        argumentSet("IPv4 HBONE port", "192.168.1.20:15008", "192.168.1.20", 15008),
        argumentSet("IPv4 lowest port", "10.0.0.1:1", "10.0.0.1", 1),
        argumentSet("IPv4 highest port", "255.255.255.255:65535", "255.255.255.255", 65535),
        argumentSet("IPv6 in brackets", "[fd00::1]:8080", "fd00::1", 8080),
        argumentSet("IPv6 loopback", "[::1]:15008", "::1", 15008),
        argumentSet("IPv6 unspecified", "[::]:80", "::", 80),
        argumentSet("IPv6 full form", "[fd00:0:0:0:0:0:0:1]:443", "fd00::1", 443),
        argumentSet("IPv6 upper case hex", "[FD00::ABCD]:443", "fd00::abcd", 443),
        argumentSet("IPv6 with an IPv4 tail", "[64:ff9b::10.0.0.1]:80", "64:ff9b::a00:1", 80));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("acceptedAuthorities")
  void literal_ip_and_port_is_accepted(String authority, String ip, int port) throws Exception {
    assertThat(Hbone.parseAuthority(authority)).contains(address(ip, port));
  }

  @Test
  void parsed_authority_is_resolved_and_of_the_written_family() {
    assertThat(Hbone.parseAuthority("10.0.0.1:80")).hasValueSatisfying(a -> {
      assertThat(a.isUnresolved()).isFalse();
      assertThat(a.getAddress()).isInstanceOf(Inet4Address.class);
    });
    assertThat(Hbone.parseAuthority("[fd00::1]:8080")).hasValueSatisfying(a -> {
      assertThat(a.isUnresolved()).isFalse();
      assertThat(a.getAddress()).isInstanceOf(Inet6Address.class);
    });
  }

  static Stream<Arguments> refusedAuthorities() {
    return Stream.of(
        argumentSet("name", "backend.shop.svc.cluster.local:80"),
        argumentSet("localhost", "localhost:80"),
        argumentSet("single label name", "backend:80"),
        argumentSet("name made of hex digits", "cafe:80"),
        argumentSet("name in brackets", "[localhost]:80"),
        argumentSet("hex name in brackets", "[beef]:80"),
        argumentSet("scheme", "http://10.0.0.1:80"),
        argumentSet("path", "10.0.0.1:80/"),
        argumentSet("user info", "user@10.0.0.1:80"),
        argumentSet("missing port", "10.0.0.1"),
        argumentSet("colon without port", "10.0.0.1:"),
        argumentSet("IPv6 missing port", "[fd00::1]"),
        argumentSet("IPv6 colon without port", "[fd00::1]:"),
        argumentSet("port only", ":80"),
        argumentSet("port 0", "10.0.0.1:0"),
        argumentSet("port 65536", "10.0.0.1:65536"),
        argumentSet("port of six digits", "10.0.0.1:123456"),
        argumentSet("port beyond int", "10.0.0.1:99999999999"),
        argumentSet("leading plus", "10.0.0.1:+80"),
        argumentSet("leading minus", "10.0.0.1:-80"),
        argumentSet("hex port", "10.0.0.1:0x50"),
        argumentSet("named port", "10.0.0.1:http"),
        argumentSet("IPv6 without brackets", "fd00::1:8080"),
        argumentSet("IPv6 loopback without brackets", "::1:80"),
        argumentSet("IPv6 missing closing bracket", "[fd00::1:80"),
        argumentSet("IPv6 missing opening bracket", "fd00::1]:80"),
        argumentSet("empty brackets", "[]:80"),
        argumentSet("IPv6 zone id", "[fe80::1%eth0]:80"),
        argumentSet("malformed IPv6", "[fd00:::1]:80"),
        argumentSet("IPv6 with too many groups", "[1:2:3:4:5:6:7:8:9]:80"),
        argumentSet("IPv4 in brackets", "[10.0.0.1]:80"),
        argumentSet("IPv4 of five parts", "10.0.0.0.1:80"),
        argumentSet("IPv4 of three parts", "10.0.1:80"),
        argumentSet("IPv4 as one number", "167772161:80"),
        argumentSet("IPv4 empty part", "10..0.1:80"),
        argumentSet("IPv4 trailing dot", "10.0.0.1.:80"),
        argumentSet("IPv4 octet 256", "10.0.0.256:80"),
        argumentSet("IPv4 octet of four digits", "10.0.0.0001:80"),
        argumentSet("IPv4 hex octet", "0x0a.0.0.1:80"),
        argumentSet("empty", ""),
        argumentSet("only a colon", ":"),
        argumentSet("longer than 64 characters", "a".repeat(62) + ":80"),
        argumentSet("leading space", " 10.0.0.1:80"),
        argumentSet("space before colon", "10.0.0.1 :80"),
        argumentSet("space after colon", "10.0.0.1: 80"),
        argumentSet("trailing space", "10.0.0.1:80 "),
        argumentSet("tab", "10.0.0.1:\t80"),
        argumentSet("trailing line feed", "10.0.0.1:80\n"),
        argumentSet("NUL in the address", "10.0.0.1\u0000:80"),
        argumentSet("NUL after the port", "10.0.0.1:80\u0000"),
        argumentSet("NUL in IPv6", "[fd00::1\u0000]:80"));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("refusedAuthorities")
  void anything_else_is_refused(String authority) {
    assertThat(Hbone.parseAuthority(authority)).isEmpty();
  }

  @Test
  void no_authority_is_refused() {
    assertThat(Hbone.parseAuthority(null)).isEmpty();
  }

  @Test
  void longest_possible_authority_fits_the_limit() throws Exception {
    String longest = "[0000:0000:0000:0000:0000:0001:255.255.255.255]:65535";

    assertThat(longest).hasSizeLessThanOrEqualTo(Hbone.MAX_AUTHORITY_LENGTH);
    assertThat(Hbone.parseAuthority(longest)).contains(address("::1:ffff:ffff", 65535));
  }

  static Stream<Arguments> literalIps() {
    return Stream.of(
        argumentSet("IPv4", "10.0.0.1", Inet4Address.class),
        argumentSet("IPv4 zeros", "0.0.0.0", Inet4Address.class),
        argumentSet("IPv6", "fd00::1", Inet6Address.class),
        argumentSet("IPv6 unspecified", "::", Inet6Address.class),
        argumentSet("IPv6 full form", "2001:db8:0:0:0:0:0:1", Inet6Address.class));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("literalIps")
  void literal_ip_is_parsed(String text, Class<? extends InetAddress> family) throws Exception {
    InetAddress expected = InetAddress.getByName(text);

    assertThat(Hbone.literalIp(text)).hasValueSatisfying(ip -> assertThat(ip).isInstanceOf(family).isEqualTo(expected));
  }

  static Stream<Arguments> notLiteralIps() {
    return Stream.of(
        argumentSet("localhost, which would resolve", "localhost"),
        argumentSet("fully qualified name", "example.com"),
        argumentSet("name made of hex digits", "cafe"),
        argumentSet("name made of hex digits and a dot", "dead.beef"),
        argumentSet("IPv6 in brackets", "[::1]"),
        argumentSet("malformed IPv6", "dead:beef"),
        argumentSet("IPv6 zone id", "fe80::1%1"),
        argumentSet("IPv4 of three parts", "10.0.1"),
        argumentSet("IPv4 of five parts", "10.0.0.0.1"),
        argumentSet("IPv4 octet 256", "256.0.0.1"),
        argumentSet("IPv4 with a port", "10.0.0.1:80"),
        argumentSet("IPv4 with a space", "10.0.0.1 "),
        argumentSet("NUL", "10.0.0.1\u0000"),
        argumentSet("empty", ""),
        argumentSet("longer than an IPv6 address can be", "0:".repeat(23) + "0"));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("notLiteralIps")
  void anything_but_a_literal_ip_gives_empty(String text) {
    assertThat(Hbone.literalIp(text)).isEmpty();
  }

  @Test
  void no_text_gives_empty() {
    assertThat(Hbone.literalIp(null)).isEmpty();
  }

  static Stream<Arguments> formattedAuthorities() {
    return Stream.of(
        argumentSet("IPv4", "10.0.0.1", 80, "10.0.0.1:80"),
        argumentSet("IPv6 gets brackets", "fd00::1", 8080, "[fd00:0:0:0:0:0:0:1]:8080"),
        argumentSet("IPv6 loopback", "::1", 15008, "[0:0:0:0:0:0:0:1]:15008"));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("formattedAuthorities")
  void authority_is_formatted_and_parses_back(String ip, int port, String expected) throws Exception {
    InetSocketAddress original = address(ip, port);

    assertThat(Hbone.authority(original)).isEqualTo(expected);
    assertThat(Hbone.parseAuthority(Hbone.authority(original))).contains(original);
  }

  @Test
  void forwarded_for_round_trips_the_original_source() throws Exception {
    InetSocketAddress source = address("10.1.1.2", 45474);
    assertThat(Hbone.forwardedFor(source)).isEqualTo("for=\"10.1.1.2:45474\"");
    assertThat(Hbone.parseForwardedFor(Hbone.forwardedFor(source))).contains(source);
    assertThat(Hbone.parseForwardedFor(Hbone.forwardedFor(address("fd00::7", 80)))).contains(address("fd00::7", 80));
  }

  @Test
  void forwarded_for_an_address_alone_round_trips_with_port_0() throws Exception {
    InetAddress v4 = InetAddress.getByName("10.1.1.2");
    InetAddress v6 = InetAddress.getByName("fd00::7");
    assertThat(Hbone.forwardedFor(v4)).isEqualTo("for=\"10.1.1.2\"");
    assertThat(Hbone.forwardedFor(v6)).isEqualTo("for=\"[fd00:0:0:0:0:0:0:7]\"");
    assertThat(Hbone.parseForwardedFor(Hbone.forwardedFor(v4))).contains(new InetSocketAddress(v4, 0));
    assertThat(Hbone.parseForwardedFor(Hbone.forwardedFor(v6))).contains(new InetSocketAddress(v6, 0));
  }

  static Stream<Arguments> rejectedForwarded() {
    return Stream.of(
        argumentSet("absent", (Object) null),
        argumentSet("a name", "for=\"localhost:80\""),
        argumentSet("unquoted", "for=10.0.0.1:80"),
        argumentSet("a list", "for=\"10.0.0.1:80\", for=\"10.0.0.2:80\""),
        argumentSet("another parameter", "by=\"10.0.0.1:80\""),
        argumentSet("a v6 address without brackets", "for=\"fd00::7\""),
        argumentSet("a v4 address in brackets", "for=\"[10.0.0.1]\""),
        argumentSet("overlong", "for=\"" + "1".repeat(100) + "\""));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("rejectedForwarded")
  void forwarded_other_than_one_literal_address_is_ignored(String header) {
    assertThat(Hbone.parseForwardedFor(header)).isEmpty();
  }
}

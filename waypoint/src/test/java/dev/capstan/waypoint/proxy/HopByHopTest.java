package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Which headers stop at the waypoint (RFC 9110 §7.6.1) and which go on, in any letter case. */
class HopByHopTest {

  record Case(String name, List<String[]> headers, List<String> kept) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Case> cases() {
    return List.of(
        new Case("a message without hop-by-hop headers is left alone",
            List.of(h("Content-Type", "text/plain"), h("x-version", "v1"), h("Content-Length", "64")),
            List.of("content-type", "x-version", "content-length")),
        new Case("Connection goes, and so do the headers it names",
            List.of(h("Connection", "keep-alive, X-Secret , x-other"), h("X-Secret", "s"), h("x-other", "o"), h("x-kept", "k")),
            List.of("x-kept")),
        new Case("the fixed hop-by-hop names go in any letter case",
            List.of(h("KEEP-ALIVE", "timeout=5"), h("Proxy-Connection", "keep-alive"), h("upgrade", "h2c"),
                h("Proxy-Authorization", "Basic x"), h("proxy-authenticate", "Basic"), h("HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA"),
                h("Host", "backend")),
            List.of("host")),
        new Case("TE: trailers goes on (gRPC needs it), any other TE stops",
            List.of(h("TE", "trailers"), h("x-a", "1")),
            List.of("te", "x-a")),
        new Case("TE other than trailers stops",
            List.of(h("te", "gzip"), h("x-a", "1")),
            List.of("x-a")),
        new Case("Transfer-Encoding stays: the HTTP/1.1 codecs frame the body by it",
            List.of(h("Transfer-Encoding", "chunked"), h("Connection", "close")),
            List.of("transfer-encoding")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void strips_only_the_connection_headers(Case c) {
    HttpHeaders headers = new DefaultHttpHeaders();
    c.headers().forEach(h -> headers.add(h[0], h[1]));

    HopByHop.strip(headers);

    assertThat(headers.names().stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).collect(Collectors.toList()))
        .containsExactlyInAnyOrderElementsOf(c.kept());
    Map<String, String> before = c.headers().stream().collect(Collectors.toMap(h -> h[0].toLowerCase(java.util.Locale.ROOT), h -> h[1]));
    c.kept().forEach(n -> assertThat(headers.get(n)).as(n).isEqualTo(before.get(n)));
  }

  private static String[] h(String name, String value) {
    return new String[] {name, value};
  }
}

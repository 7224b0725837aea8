package dev.capstan.waypoint.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Headers that belong to one connection, not to the message (RFC 9110 §7.6.1): removed before a
 * message goes on to the next hop. {@code Transfer-Encoding} stays: the HTTP/1.1 codecs frame the
 * body by it and the HTTP/2 codecs drop it.
 */
final class HopByHop {

  private static final List<AsciiString> ALWAYS = List.of(AsciiString.cached("keep-alive"),
      AsciiString.cached("proxy-connection"), HttpHeaderNames.UPGRADE, HttpHeaderNames.PROXY_AUTHORIZATION,
      HttpHeaderNames.PROXY_AUTHENTICATE, AsciiString.cached("http2-settings"));

  private HopByHop() {}

  static void strip(HttpHeaders headers) {
    // One pass finds which are there (a message usually has none but Connection); each remove is a
    // hash lookup, and there are eight names to remove.
    boolean connection = false;
    boolean always = false;
    boolean te = false;
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
      CharSequence name = it.next().getKey();
      if (HttpHeaderNames.CONNECTION.contentEqualsIgnoreCase(name)) {
        connection = true;
      } else if (HttpHeaderNames.TE.contentEqualsIgnoreCase(name)) {
        te = true;
      } else if (!always) {
        for (int i = 0; i < ALWAYS.size() && !always; i++) {
          always = ALWAYS.get(i).contentEqualsIgnoreCase(name);
        }
      }
    }
    if (connection) {
      for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
        for (String token : value.split(",")) {
          String name = token.trim();
          if (!name.isEmpty() && !name.equalsIgnoreCase("close") && !name.equalsIgnoreCase("keep-alive")) {
            headers.remove(name);
          }
        }
      }
      headers.remove(HttpHeaderNames.CONNECTION);
    }
    if (always) {
      ALWAYS.forEach(headers::remove);
    }
    if (te) {
      String value = headers.get(HttpHeaderNames.TE);
      if (value != null && !value.trim().equalsIgnoreCase("trailers")) {
        headers.remove(HttpHeaderNames.TE);
      }
    }
  }
}

package dev.capstan.cli.remote;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * An HTTP endpoint as a user types it: {@code host:port}, or a URL ({@code http://host:port/path}).
 * A bare {@code host:port} gets the path the command needs ({@code /config_dump}, {@code
 * /metrics}); a URL keeps its own path.
 *
 * @param host a name or an IP address (IPv6 without brackets)
 * @param port 1 to 65535
 * @param path starts with {@code /}, or is empty for the command's default
 */
public record Endpoint(String host, int port, String path) {

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming what is wrong and what a good value looks like
   */
  public static Endpoint parse(String text) {
    String value = text == null ? "" : text.strip();
    if (value.isEmpty()) {
      throw new IllegalArgumentException("an empty address: give host:port, e.g. 127.0.0.1:15000");
    }
    String url = value.contains("://") ? value : "http://" + value;
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + value + "' is not host:port or an http:// URL (" + e.getReason() + ")");
    }
    if (!"http".equals(uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("'" + value + "': only http:// endpoints are supported (the admin and metrics ports speak plain HTTP)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("'" + value + "' has no host: give host:port, e.g. 127.0.0.1:15000");
    }
    if (uri.getPort() < 1 || uri.getPort() > 65535) {
      throw new IllegalArgumentException("'" + value + "' has no port: give host:port, e.g. 127.0.0.1:15000");
    }
    String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
    String path = uri.getRawPath() == null || uri.getRawPath().equals("/") ? "" : uri.getRawPath();
    return new Endpoint(host, uri.getPort(), path);
  }

  /** The URL to GET: this endpoint's own path, or {@code defaultPath} when it has none. */
  public URI uri(String defaultPath) {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return URI.create("http://" + h + ":" + port + (path.isEmpty() ? defaultPath : path));
  }

  /** {@code host:port}, as tables show it. */
  public String address() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  @Override
  public String toString() {
    return address() + path;
  }

  /** For picocli options: a bad address is a usage error naming the value. */
  public static final class Converter implements picocli.CommandLine.ITypeConverter<Endpoint> {
    @Override
    public Endpoint convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}

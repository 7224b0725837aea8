package dev.capstan.cli.remote;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capstan.cli.CliException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;

/**
 * GETs from the components' admin and metrics endpoints, each bounded by one timeout (connect and
 * answer). Every failure becomes a {@link CliException} whose message names the URL, what went
 * wrong and what to try.
 */
public final class Http {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The status and body of an answer. */
  public record Answer(int status, String body) {}

  private final HttpClient client;
  private final Duration timeout;

  public Http(Duration timeout) {
    this.timeout = timeout;
    this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /**
   * GETs {@code uri} whatever its status.
   *
   * @param what whose endpoint this is, for the message ("the node agent's admin endpoint")
   * @param hint what to try when it cannot be reached
   */
  public Answer get(URI uri, String what, String hint) {
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (HttpConnectTimeoutException e) {
      throw unreachable(what, uri, "no connection within " + seconds(), hint);
    } catch (HttpTimeoutException e) {
      throw unreachable(what, uri, "no answer within " + seconds(), hint);
    } catch (IOException e) {
      throw unreachable(what, uri, reason(e), hint);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted while reading " + uri);
    } catch (IllegalArgumentException e) {
      throw unreachable(what, uri, "bad address (" + e.getMessage() + ")", hint);
    }
  }

  /** GETs {@code uri} and returns its body; any status but 200 is an error. */
  public String text(URI uri, String what, String hint) {
    Answer answer = get(uri, what, hint);
    if (answer.status() != 200) {
      throw new CliException(what + " at " + uri + " answered HTTP " + answer.status() + " ("
          + firstLine(answer.body()) + "): is that the right port? " + hint);
    }
    return answer.body();
  }

  /** GETs {@code uri} and parses its body as JSON. */
  public JsonNode json(URI uri, String what, String hint) {
    String body = text(uri, what, hint);
    try {
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new CliException(what + " at " + uri + " did not answer JSON (" + firstLine(body)
          + "): is that an admin port (config dump), not a metrics or readiness port?");
    }
  }

  private CliException unreachable(String what, URI uri, String reason, String hint) {
    return new CliException("cannot reach " + what + " at " + uri + ": " + reason + ". " + hint);
  }

  private String seconds() {
    return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
  }

  private static String reason(IOException e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getMessage() == null) {
      cause = cause.getCause();
    }
    if (cause instanceof UnresolvedAddressException || e.getCause() instanceof UnresolvedAddressException) {
      return "unknown host";
    }
    if (e instanceof ConnectException && (e.getMessage() == null || e.getMessage().isBlank())) {
      return "connection refused";
    }
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message.toLowerCase(java.util.Locale.ROOT);
  }

  private static String firstLine(String body) {
    String line = body == null ? "" : body.strip().lines().findFirst().orElse("");
    return line.length() > 80 ? line.substring(0, 80) + "…" : (line.isEmpty() ? "empty body" : line);
  }
}

package dev.capstan.waypoint.proxy;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

/** The answer to a request the HTTP/1.1 decoder refused, in one place: status and the reason shown. */
final class BadRequests {

  private BadRequests() {}

  /** 431 for a head over the size limit, 414 for a request line over it, 400 for anything else malformed. */
  static HttpResponseStatus status(Throwable cause) {
    if (cause instanceof TooLongHttpHeaderException) {
      return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
    }
    if (cause instanceof TooLongHttpLineException) {
      return HttpResponseStatus.REQUEST_URI_TOO_LONG;
    }
    return HttpResponseStatus.BAD_REQUEST;
  }

  /** What the client reads in the body. */
  static String reason(Throwable cause) {
    if (cause instanceof TooLongHttpHeaderException) {
      return "request headers too large";
    }
    if (cause instanceof TooLongHttpLineException) {
      return "request line too long";
    }
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return "malformed request: " + (message.length() > 200 ? message.substring(0, 200) : message);
  }
}

package dev.capstan.waypoint.route;

import java.util.List;

/**
 * What routing reads of a request: the protocol adapters (HTTP/1.1, HTTP/2, gRPC) present their
 * request heads through it, so the table is written once.
 */
public interface RequestView {

  /** The method, upper case as sent. */
  String method();

  /** The {@code Host} header or {@code :authority}, possibly with a port; empty when absent. */
  String authority();

  /** The path without the query, as sent (starts with {@code /}). */
  String path();

  /** The raw query after {@code ?}, or empty. */
  String query();

  /** Every value of a header (name case-insensitive), in order; empty when absent. */
  List<String> headers(String name);
}

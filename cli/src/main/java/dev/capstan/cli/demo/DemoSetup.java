package dev.capstan.cli.demo;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * A started demo mesh as {@link DemoCommand} drives it, whatever runs it: {@link DemoMesh} (one
 * JVM, loopback addresses, explicit proxy) or the transparent one (pods in network namespaces,
 * kernel redirection). The command prints the same lines and summary for both.
 */
public interface DemoSetup extends AutoCloseable {

  /** Where everything is: the lines printed once the mesh is ready. */
  void describe(PrintWriter out);

  /** The hops a request takes, for the traffic line ({@code frontend-1 (…) → agent … → reviews v1/v2}). */
  String path();

  /** The frontend's load, to warm up and then run. */
  Traffic traffic();

  /** The summary of a run: the frontend's result and what the agents' and the waypoint's metrics say. */
  Summary summarize(Frontend.Result result) throws IOException, InterruptedException;

  /** How to send a request by hand while the mesh stays up (lines, each ending in a newline). */
  String tryIt();

  /** Stops everything it started; never throws. */
  @Override
  void close();
}

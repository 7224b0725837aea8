package dev.capstan.e2e.net;

import dev.capstan.e2e.tools.EchoServer;
import dev.capstan.netlab.NetnsProcess;
import dev.capstan.netlab.Pod;
import java.time.Duration;

/** The e2e tools ({@code dev.capstan.e2e.tools}) started in pods, ready when these return. */
public final class PodTools {
  private PodTools() {}

  /** Starts {@link EchoServer} (raw echo on {@code echoPort}, HTTP on {@code httpPort}) in {@code pod} and waits until it listens. */
  public static NetnsProcess startEchoServer(Pod pod, int echoPort, int httpPort) {
    return startEchoServer(pod, echoPort, httpPort, "echo");
  }

  /** {@link #startEchoServer(Pod, int, int)} answering {@code server=<serverName>} (a version, say). */
  public static NetnsProcess startEchoServer(Pod pod, int echoPort, int httpPort, String serverName) {
    NetnsProcess p = pod.startTool(pod.name() + "-echo", EchoServer.class,
        "--echo", Integer.toString(echoPort), "--http", Integer.toString(httpPort), "--name", serverName);
    p.awaitLog("^listening ", Duration.ofSeconds(20));
    return p;
  }
}

package dev.capstan.core.io;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Random;

/** Picks a port for a listener that several local addresses must share (demos and tests on 127.0.0.0/8). */
public final class FreePorts {

  private FreePorts() {}

  /**
   * A port free on every one of {@code ips}, in 20000–31999: below the ephemeral range, so no
   * client socket of this machine holds it.
   */
  public static int on(Random random, String... ips) throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = 20_000 + random.nextInt(12_000);
      boolean free = true;
      for (String ip : ips) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress(InetAddress.getByName(ip), port));
        } catch (IOException taken) {
          free = false;
          break;
        }
      }
      if (free) {
        return port;
      }
    }
    throw new IOException("no port in 20000-31999 is free on every one of " + String.join(", ", ips));
  }
}

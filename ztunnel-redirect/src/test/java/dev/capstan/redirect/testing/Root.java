package dev.capstan.redirect.testing;

import dev.capstan.redirect.exec.ProcessCommands;
import org.junit.jupiter.api.Assumptions;

/**
 * The guard of root-only tests: when not root, prints a loud {@code SKIPPED (needs root)} line
 * (CI greps for it and fails: these tests must really run) and skips through an assumption.
 */
public final class Root {

  private static volatile Boolean root;

  private Root() {}

  public static boolean isRoot() {
    if (root == null) {
      root = "0".equals(ProcessCommands.local().run("id", "-u").stdout().strip());
    }
    return root;
  }

  /** Skips the calling test unless this process is root. */
  public static void require(String test) {
    if (!isRoot()) {
      System.out.println("!!!!! " + test + " SKIPPED (needs root): kernel tests need root to create network namespaces"
          + " and nftables tables; run them as root (CI fails on this line) !!!!!");
      Assumptions.abort("needs root");
    }
  }
}

package dev.capstan.cli.remote;

/** What to try when a component cannot be reached, said once for every command. */
public final class Hints {

  private Hints() {}

  /** For an admin endpoint ({@code /config_dump}, port 15000, loopback only). */
  public static final String ADMIN = "Is the component running, and is this its admin port (15000 by default, loopback only)?"
      + " Run capstan on its host, or forward the port: kubectl -n <namespace> port-forward pod/<pod> 15000";

  /** For a metrics endpoint ({@code /metrics}, port 15020). */
  public static final String METRICS = "Is the component running, and is this its metrics port (15020 by default)?"
      + " From outside its host: kubectl -n <namespace> port-forward pod/<pod> 15020";
}

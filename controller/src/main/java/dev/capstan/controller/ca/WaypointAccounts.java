package dev.capstan.controller.ca;

import java.util.Optional;

/**
 * The Waypoints the CA knows (the controller's current mesh model) and the service account each
 * one's pods run as: a waypoint pod may get a certificate for that account's identity, its own.
 * Called on a worker thread.
 */
public interface WaypointAccounts {

  /** No Waypoints: every waypoint credential is refused. */
  WaypointAccounts NONE = new WaypointAccounts() {
    @Override
    public Optional<String> serviceAccount(String namespace, String name) {
      return Optional.empty();
    }

    @Override
    public boolean anyRunsAs(String namespace, String serviceAccount) {
      return false;
    }
  };

  /** The service account of the Waypoint {@code namespace/name}, if that Waypoint is declared. */
  Optional<String> serviceAccount(String namespace, String name);

  /** Whether any Waypoint of {@code namespace} runs as {@code serviceAccount}. */
  boolean anyRunsAs(String namespace, String serviceAccount);
}

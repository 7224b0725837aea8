package dev.capstan.controller.ca;

/**
 * Node authorization (istiod's NodeAuthorizer is the model): whether a workload of a namespace and
 * service account is scheduled on a node. Implemented over the controller's current mesh model.
 * Called on a worker thread.
 */
public interface Placement {

  /** True if a workload with this namespace and service account is scheduled on {@code node}. */
  boolean runsOn(String node, String namespace, String serviceAccount);
}

/** Runs Capstan on the test network: manifests, the controller and the node agents as processes. */
package dev.capstan.e2e.mesh;

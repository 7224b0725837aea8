/** Runs Capstan on a {@link dev.capstan.netlab.TwoNodeNetwork}: manifests, the controller, redirects, node agents and waypoints as processes. */
package dev.capstan.netlab.mesh;

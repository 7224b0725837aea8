/** In a cluster, runs each declared Waypoint as a Deployment and a Service (with its ConfigMap and ServiceAccount) that the Waypoint owns. */
package dev.capstan.controller.waypoint;

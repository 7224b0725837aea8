/** What the waypoint knows of the mesh: services, workloads and routes, indexed for the request path. */
package dev.capstan.waypoint.state;

/** {@code capstan status}: the controller replicas, the agents and waypoints, and which config version each one runs. */
package dev.capstan.cli.status;

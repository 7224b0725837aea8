/** The waypoint's own certificate (from files, or from the controller's CA and renewed at half-life) and the TLS contexts made from it. */
package dev.capstan.waypoint.identity;

/** The waypoint: a per-namespace L7 proxy that routes the HTTP inside HBONE tunnels for the services that use it. */
package dev.capstan.waypoint;

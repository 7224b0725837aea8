/** The waypoint's request path: HBONE in, HTTP routing, HBONE out to the chosen endpoint's node agent. */
package dev.capstan.waypoint.proxy;

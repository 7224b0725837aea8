/** What the waypoint reports per request: Istio-named metrics, W3C trace context, and an access log line. */
package dev.capstan.waypoint.telemetry;

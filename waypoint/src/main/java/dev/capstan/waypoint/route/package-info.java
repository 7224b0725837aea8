/** Gateway API HTTPRoute rules compiled once per service port into a table that picks a rule and a backend per request. */
package dev.capstan.waypoint.route;

/** TrafficPolicy enforcement without I/O: retry decisions and budgets, rate and concurrency limits, fault injection, compiled per service and kept across config versions. */
package dev.capstan.waypoint.resilience;

/** Choosing an endpoint per request: power of two choices over a peak-sensitive moving average of latency. */
package dev.capstan.waypoint.balance;

/** Choosing an endpoint per request: power of two choices over a peak-sensitive moving average of latency, or round robin; passive health by outlier detection. */
package dev.capstan.waypoint.balance;

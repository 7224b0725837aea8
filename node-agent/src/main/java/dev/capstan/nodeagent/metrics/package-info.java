/** Accounting: Prometheus metrics with Istio's label schema and the access log. */
package dev.capstan.nodeagent.metrics;

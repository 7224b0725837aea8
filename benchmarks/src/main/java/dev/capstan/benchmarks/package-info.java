/** Scenario benchmarks of the control plane: config propagation, view memory, egress, CA throughput. */
package dev.capstan.benchmarks;

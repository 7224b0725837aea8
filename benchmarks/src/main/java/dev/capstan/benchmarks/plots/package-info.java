/** Reads the summary tables of benchmarks/RESULTS.md and draws them as SVG bar charts for docs/plots (run by benchmarks/plots.sh). */
package dev.capstan.benchmarks.plots;

/** The noisy-neighbour benchmark's load tools: a latency probe, a flood, and their servers (run by benchmarks/noisy-neighbour.sh). */
package dev.capstan.benchmarks.noisy;

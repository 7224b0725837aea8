/** The node agent: its entry point and the one place that wires its parts together. */
package dev.capstan.nodeagent;

/** The agent's view of the mesh: one interface, an immutable index per version, and its sources (the controller through Hazelcast, or a file). */
package dev.capstan.nodeagent.state;

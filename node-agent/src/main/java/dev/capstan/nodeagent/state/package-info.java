/** The agent's view of the mesh: one interface, an immutable index per version, and its file-backed source. */
package dev.capstan.nodeagent.state;

/** Graceful drain: stop accepting, let open connections finish until a deadline, then close the rest. */
package dev.capstan.nodeagent.drain;

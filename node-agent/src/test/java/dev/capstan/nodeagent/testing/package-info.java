/** Fixtures for in-process mesh tests: two node agents and their pods on 127.0.0.0/8 addresses. */
package dev.capstan.nodeagent.testing;

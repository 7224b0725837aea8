/** Writes the mesh model into Hazelcast: only changed entries, then the version. */
package dev.capstan.controller.publish;

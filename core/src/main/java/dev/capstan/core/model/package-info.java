/** Immutable records describing the mesh: workloads, services and L4 authorization policies. */
package dev.capstan.core.model;

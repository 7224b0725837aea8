/** The controller: sources of truth to the mesh model in Hazelcast, leadership, and the CA. */
package dev.capstan.controller;

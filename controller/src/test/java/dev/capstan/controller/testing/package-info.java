/** Test fixtures: controller replicas as real embedded Hazelcast members on loopback. */
package dev.capstan.controller.testing;

/** The controller replicas as one Hazelcast cluster, and which replica writes. */
package dev.capstan.controller.cluster;

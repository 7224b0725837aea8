/** Where the enrolled workloads come from: a mesh file or the controller's Hazelcast maps. */
package dev.capstan.redirect.mesh;

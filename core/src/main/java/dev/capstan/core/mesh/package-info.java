/** How the mesh model is laid out in Hazelcast: map names, keys, versions and Compact serializers. */
package dev.capstan.core.mesh;

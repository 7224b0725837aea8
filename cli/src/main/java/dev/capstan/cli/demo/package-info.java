/** {@code capstan demo}: a whole clusterless mesh in one JVM on loopback addresses, its traffic and its summary. */
package dev.capstan.cli.demo;

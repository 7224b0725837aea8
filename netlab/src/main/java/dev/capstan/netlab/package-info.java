/**
 * Two nodes and their pods as Linux network namespaces (root only), commands and long-running
 * processes inside them, and their cleanup: the network the e2e tests and {@code capstan demo
 * --transparent} build.
 */
package dev.capstan.netlab;

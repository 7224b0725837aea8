/**
 * {@code capstan demo --transparent}: the demo's mesh on two nodes and four pods made of network
 * namespaces ({@code dev.capstan.netlab}), every part a process, the pods' traffic captured by the
 * kernel into the node agents; and the programs its pods run.
 */
package dev.capstan.cli.transparent;

/** The data path: outbound capture to HBONE, the HBONE pool, inbound HBONE to workloads, and the explicit listeners. */
package dev.capstan.nodeagent.proxy;

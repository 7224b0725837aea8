/** Byte pipes between sockets and HBONE streams, with backpressure both ways, and transport selection. */
package dev.capstan.core.io;

/** {@code capstan check}: whether this node can run Capstan (kernel, ports, JDK) and, without {@code --pre}, whether its node agent is healthy. */
package dev.capstan.cli.check;

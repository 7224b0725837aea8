/** The agent's HTTP side doors, on Vert.x and off the data-plane threads: config dump, Prometheus metrics, readiness. */
package dev.capstan.nodeagent.admin;

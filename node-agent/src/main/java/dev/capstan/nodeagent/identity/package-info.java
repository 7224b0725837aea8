/** Workload certificates held by the agent: loaded from files, reloaded on change, turned into SSL contexts off the data path. */
package dev.capstan.nodeagent.identity;

/** Workload certificates held by the agent: loaded from files or installed by {@code core.ca}'s certificate manager, turned into SSL contexts off the data path. */
package dev.capstan.nodeagent.identity;

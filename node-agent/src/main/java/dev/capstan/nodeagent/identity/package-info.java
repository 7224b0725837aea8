/** Workload certificates held by the agent: loaded from files, reloaded on change, turned into SSL contexts off the data path; the CA client and the certificate manager (local keys, CSRs, renewal at half-life). */
package dev.capstan.nodeagent.identity;

/** L4 authorization: whether a verified peer may reach a workload's port. */
package dev.capstan.nodeagent.authz;

/** Per-tenant buffer quotas: a node-wide budget of held bytes shared by namespaces, with guaranteed shares and borrowing. */
package dev.capstan.nodeagent.quota;

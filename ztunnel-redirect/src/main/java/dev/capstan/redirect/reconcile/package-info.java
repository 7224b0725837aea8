/** Reconciling the kernel's capture (nftables table, policy routing) with this node's enrolled workloads. */
package dev.capstan.redirect.reconcile;

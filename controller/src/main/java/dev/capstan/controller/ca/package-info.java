/**
 * The mesh's certificate authority: the root (created once, persisted, shared by replicas), the
 * gRPC CSR service node agents call, and the checks before a leaf is signed (who calls, which node
 * it speaks for, which identity the CSR names, whether that identity runs on that node).
 */
package dev.capstan.controller.ca;

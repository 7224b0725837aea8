/**
 * The CA protocol shared by the controller, the node agents and the waypoints (Istio's
 * {@code istio.v1.auth.IstioCertificateService/CreateCertificate}, hand-encoded with protobuf-java),
 * and its client side: the CA client and the certificate manager (local keys, CSRs, renewal at
 * half-life).
 */
package dev.capstan.core.ca;

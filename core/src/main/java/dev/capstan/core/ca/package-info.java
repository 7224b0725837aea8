/**
 * The CA protocol shared by the controller and the node agents: Istio's
 * {@code istio.v1.auth.IstioCertificateService/CreateCertificate}, hand-encoded with protobuf-java.
 */
package dev.capstan.core.ca;

package dev.capstan.core.model;

/**
 * One port of a service.
 *
 * @param name port name (may be empty)
 * @param port the port clients dial on the service VIP
 * @param targetPort the port the endpoints listen on
 */
public record ServicePort(String name, int port, int targetPort) {

  public ServicePort {
    name = name == null ? "" : name;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("service port out of range: " + port);
    }
    if (targetPort == 0) {
      targetPort = port;
    }
    if (targetPort < 1 || targetPort > 65535) {
      throw new IllegalArgumentException("target port out of range: " + targetPort);
    }
  }
}

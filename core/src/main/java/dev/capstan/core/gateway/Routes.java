package dev.capstan.core.gateway;

import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.RouteManifest;

/** Reads a route manifest of either kind the waypoint acts on into the model. */
public final class Routes {

  private Routes() {}

  /**
   * The route of a manifest of this kind ({@code HTTPRoute} or {@code GRPCRoute}); {@code source}
   * names it in errors.
   *
   * @throws dev.capstan.core.config.ConfigException naming the field, for what the waypoint cannot do
   */
  public static HttpRoute parse(String kind, String text, String source) {
    return switch (kind) {
      case RouteManifest.HTTP_ROUTE -> HttpRouteManifest.parse(text, source);
      case RouteManifest.GRPC_ROUTE -> GrpcRouteManifest.parse(text, source);
      default -> throw new dev.capstan.core.config.ConfigException(source + ": kind must be HTTPRoute or GRPCRoute, got '"
          + kind + "'");
    };
  }

  /** The route a published manifest holds; errors name it by {@code kind/namespace/name}. */
  public static HttpRoute parse(RouteManifest manifest) {
    return parse(manifest.kind(), manifest.manifest(), manifest.key());
  }
}

package dev.capstan.controller.source;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.io.IOException;

/** The chart's Waypoint CRD, for tests of other packages. */
public final class WaypointCrdAccess {

  private WaypointCrdAccess() {}

  public static CustomResourceDefinition crd() throws IOException {
    return WaypointCrdTest.crd();
  }
}

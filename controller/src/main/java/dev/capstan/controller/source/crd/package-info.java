/**
 * Capstan's custom resources ({@code capstan.dev/v1alpha1}: AuthorizationPolicy, TrafficPolicy,
 * Waypoint) as fabric8 typed classes.
 */
package dev.capstan.controller.source.crd;

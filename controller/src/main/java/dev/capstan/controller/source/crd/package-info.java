/** Capstan custom resources (AuthorizationPolicy, TrafficPolicy) as the fabric8 client reads them. */
package dev.capstan.controller.source.crd;

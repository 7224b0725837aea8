/** Capstan's policy manifests ({@code TrafficPolicy}) read into the mesh model, with errors that name the field. */
package dev.capstan.core.policy;

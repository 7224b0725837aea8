/**
 * The controller's sources of truth: the Kubernetes API (informers) or a directory of manifests,
 * translated into one {@link dev.capstan.core.model.MeshSnapshot} by a pure {@link
 * dev.capstan.controller.source.Translator}.
 */
package dev.capstan.controller.source;

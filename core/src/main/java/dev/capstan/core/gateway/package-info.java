/** Gateway API manifests (HTTPRoute and GRPCRoute v1, attached to services the GAMMA way) read into the mesh model, with errors that name the field. */
package dev.capstan.core.gateway;

/** HBONE: TCP tunnelled in HTTP/2 CONNECT streams over mutual TLS, as Istio ambient defines it. */
package dev.capstan.core.hbone;

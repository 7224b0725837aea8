/** Small programs the tests run inside pod namespaces: servers and clients with bounded timeouts. */
package dev.capstan.e2e.tools;

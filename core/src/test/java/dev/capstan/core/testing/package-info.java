/** Test fixtures shared by the modules' tests: a test CA and a loopback echo server. */
package dev.capstan.core.testing;

/** Test fixtures: an in-memory kernel, throwaway network namespaces, the root-only guard. */
package dev.capstan.redirect.testing;

/** The admin, metrics and readiness HTTP endpoints every Capstan process serves. */
package dev.capstan.core.admin;

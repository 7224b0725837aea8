/** The redirect daemon's configuration, parsed once from YAML into immutable records. */
package dev.capstan.redirect.config;

/** Strict YAML readers for start-up configuration whose errors name the field and the bad value. */
package dev.capstan.core.config;

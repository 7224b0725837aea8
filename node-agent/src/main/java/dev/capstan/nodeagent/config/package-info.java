/** The agent's configuration: immutable records parsed once from a YAML file, with errors that name the field. */
package dev.capstan.nodeagent.config;

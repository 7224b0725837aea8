/** The waypoint's configuration: one immutable record parsed once from a YAML file, errors naming the field. */
package dev.capstan.waypoint.config;

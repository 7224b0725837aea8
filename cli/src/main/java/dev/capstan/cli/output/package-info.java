/** How the commands print what they found: aligned tables for people, JSON or YAML for scripts ({@code -o}). */
package dev.capstan.cli.output;

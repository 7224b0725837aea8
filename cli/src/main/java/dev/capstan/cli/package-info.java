/** The {@code capstan} command line: one entry point, its subcommands wired by hand. */
package dev.capstan.cli;

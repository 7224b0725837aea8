/** {@code capstan config-dump}: a component's {@code /config_dump}, whole or by section. */
package dev.capstan.cli.dump;

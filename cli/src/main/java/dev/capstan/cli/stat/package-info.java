/** {@code capstan stat}: per-workload and per-service traffic rates computed from two scrapes of the proxies' metrics. */
package dev.capstan.cli.stat;

/** Reaching the components' admin and metrics endpoints: addresses as users type them, HTTP GETs with bounded waits, errors that say what to try. */
package dev.capstan.cli.remote;

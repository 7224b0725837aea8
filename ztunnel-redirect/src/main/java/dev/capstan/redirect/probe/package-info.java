/** Whether the kernel and tools can capture traffic, with a fix for each missing piece. */
package dev.capstan.redirect.probe;

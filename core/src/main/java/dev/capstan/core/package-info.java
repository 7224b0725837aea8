/** Capstan core: the shared vocabulary of every module. */
package dev.capstan.core;

package dev.capstan.core.model;

/** What an authorization policy does with the connections its rules match. */
public enum PolicyAction {
  ALLOW,
  DENY
}

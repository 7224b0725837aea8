package dev.capstan.controller.ca;

/**
 * Establishes which node a CA request speaks for from its bearer token. Implementations may block
 * (API server calls): the CA server calls them on a worker thread, never on an event loop.
 */
public interface Authenticator {

  /**
   * The caller behind a token.
   *
   * @throws Denial with the reason the token is not accepted
   */
  Caller authenticate(String token) throws Denial;
}

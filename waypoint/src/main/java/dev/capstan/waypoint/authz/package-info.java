/** L7 authorization at the waypoint: the AuthorizationPolicies targeted at a service, checked per request against the source identity and the request head. */
package dev.capstan.waypoint.authz;

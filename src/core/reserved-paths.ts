/**
 * First path segments the service's own endpoints use. The gateway only sees paths no other route took, so an
 * API published under one of these could never be called: the admin API refuses such contexts.
 */
export const RESERVED_FIRST_SEGMENTS: ReadonlySet<string> = new Set([
  "admin",
  "token",
  "revoke",
  "introspect",
  "authorize",
  "login",
  "logout",
  "consent",
  "oauth2",
  "userinfo",
  "jwks",
  "health",
  "store",
  ".well-known",
]);

/** True when a normalised context (`/twitter`) would be shadowed by one of the service's own routes. */
export function isReservedContext(context: string): boolean {
  const first = context.split("/")[1] ?? "";
  return RESERVED_FIRST_SEGMENTS.has(first.toLowerCase());
}

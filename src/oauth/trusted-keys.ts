import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type ExportedJWKSCache,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwksCache,
} from "jose";
import type { TrustedIssuerView } from "../durable/registry/trusted-issuers";

/** How long the grant waits for an issuer's JWKS before it refuses the assertion. */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** How long a fetched JWKS is used before it is fetched again (an unknown `kid` refetches sooner). */
const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** The least time between two fetches caused by unknown `kid`s. */
const JWKS_COOLDOWN_MS = 30_000;
const MAX_CACHED_ISSUERS = 1_000;

/**
 * Fetched JWKS by issuer and URI, kept in this isolate. The resolver itself is made per request and only the
 * fetched keys are shared (jose's `jwksCache`), so that no request waits on a fetch another request started.
 */
const remoteCaches = new Map<string, ExportedJWKSCache | Record<string, never>>();

/**
 * The keys an assertion of a trusted issuer must verify with (RFC 7523 §3 item 9): its inline JWKS, or its
 * `jwksUri`, fetched with a timeout and cached (jose `createRemoteJWKSet`).
 */
export function trustedKeys(issuer: TrustedIssuerView): JWTVerifyGetKey {
  if (issuer.jwks) return createLocalJWKSet(issuer.jwks as JSONWebKeySet);
  const cacheKey = `${issuer.id}\n${issuer.jwksUri}`;
  let cache = remoteCaches.get(cacheKey);
  if (!cache) {
    if (remoteCaches.size >= MAX_CACHED_ISSUERS) remoteCaches.clear();
    cache = {};
    remoteCaches.set(cacheKey, cache);
  }
  return createRemoteJWKSet(new URL(issuer.jwksUri as string), {
    timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    [jwksCache]: cache,
  });
}

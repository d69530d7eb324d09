import { kvKeys } from "../core/cache-keys";
import { cacheEnabled, kvExpirationTtl, revocationMarkerTtl, staleAtFor } from "./cache-policy";
import type { AccessTokenFacts, CachedValidation, RevocationMarker } from "./facts";

/**
 * Drops the gateway's cached validation of the given access tokens (by hash). Revocation awaits this before it
 * answers, so the gateway in the same location refuses the token on the very next call.
 *
 * It writes a revocation marker rather than deleting the entry: a gateway that read the token as active from its
 * shard just before the revocation may write its validation entry back after this ran, which a delete would not
 * stop. The gateway reads the marker in the same bulk read as the entry and trusts no entry that has one, and the
 * marker outlives any entry (revocationMarkerTtl), so one KV write per token is enough. `ttl` is
 * GATEWAY_CACHE_TTL in seconds (0: the gateway caches nothing, so there is nothing to purge).
 */
export async function purgeValidation(env: Env, ttl: number, tokenHashes: readonly string[]): Promise<void> {
  await publishRevocationMarkers(env, ttl, tokenHashes);
}

/**
 * Writes the revocation markers of `tokenHashes`. `skipPresent` (the shard's purge outbox, retrying what a caller
 * may already have written): read them first, in bulk, and write only those KV does not have. Throws if KV does.
 */
export async function publishRevocationMarkers(
  env: Env,
  ttl: number,
  tokenHashes: readonly string[],
  options: { skipPresent?: boolean } = {},
): Promise<void> {
  if (tokenHashes.length === 0 || !cacheEnabled(ttl)) return;
  let missing = tokenHashes;
  if (options.skipPresent) {
    const present = await env.VALIDATION_CACHE.get(tokenHashes.map((hash) => kvKeys.revoked(hash)));
    missing = tokenHashes.filter((hash) => (present.get(kvKeys.revoked(hash)) ?? null) === null);
  }
  const marker: RevocationMarker = { revokedAt: Date.now() };
  const body = JSON.stringify(marker);
  const expirationTtl = revocationMarkerTtl(ttl);
  await Promise.all(
    missing.map((hash) => env.VALIDATION_CACHE.put(kvKeys.revoked(hash), body, { expirationTtl })),
  );
}

/**
 * The entry to cache for a token the shard validated at `validatedAt` (taken before asking it): usable for the
 * TTL from then, never past the token's expiry.
 */
export function validationEntry(
  facts: AccessTokenFacts,
  ttlSeconds: number,
  validatedAt: number,
): CachedValidation {
  return {
    consumerKey: facts.consumerKey,
    keyType: facts.keyType,
    user: facts.user,
    isApplicationToken: facts.isApplicationToken,
    scope: facts.scope,
    expiresAt: facts.expiresAt,
    staleAt: staleAtFor(ttlSeconds, validatedAt, facts.expiresAt),
  };
}

export async function writeValidation(env: Env, tokenHash: string, entry: CachedValidation): Promise<void> {
  const now = Date.now();
  if (entry.staleAt <= now) return;
  await env.VALIDATION_CACHE.put(kvKeys.validation(tokenHash), JSON.stringify(entry), {
    expirationTtl: kvExpirationTtl(entry.staleAt, now),
  });
}

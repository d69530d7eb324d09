import { kvKeys } from "../core/cache-keys";
import { cacheEnabled, kvExpirationTtl, revocationMarkerTtl, staleAtFor } from "./cache-policy";
import type { AccessTokenFacts, CachedValidation, RevocationMarker } from "./facts";

/**
 * Ends the gateway's cached validation of the given access tokens (by hash). Revocation awaits this before it
 * answers, so the gateway in the same location refuses the token on the very next call.
 *
 * It overwrites the token's one gateway key with a revocation marker (README "Validation cache"): the gateway
 * reads that key on every call and refuses a token whose entry is a marker. A validation written back after the
 * marker would undo it, which cannot happen: only the token's shard writes validations, and a shard call that
 * revokes a token answers (and so this runs) only after the shard's pending write of that token has finished
 * (src/durable/shard/gateway-fills.ts). The marker outlives any validation entry (revocationMarkerTtl). `ttl` is
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
    const present = await env.VALIDATION_CACHE.get<CachedValidation | RevocationMarker>(
      tokenHashes.map((hash) => kvKeys.validation(hash)),
      "json",
    );
    missing = tokenHashes.filter((hash) => {
      const entry = present.get(kvKeys.validation(hash)) ?? null;
      return entry === null || !isRevocationMarker(entry);
    });
  }
  const marker: RevocationMarker = { revokedAt: Date.now() };
  const body = JSON.stringify(marker);
  const expirationTtl = revocationMarkerTtl(ttl);
  await Promise.all(
    missing.map((hash) => env.VALIDATION_CACHE.put(kvKeys.validation(hash), body, { expirationTtl })),
  );
}

/** True when a token's gateway entry is a revocation marker rather than a validation. */
export function isRevocationMarker(entry: CachedValidation | RevocationMarker): entry is RevocationMarker {
  return typeof (entry as RevocationMarker).revokedAt === "number";
}

/**
 * The entry to cache for a token the shard validated at `validatedAt`: usable for the TTL from then, never past
 * the token's expiry.
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

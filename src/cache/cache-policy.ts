/**
 * Lifetimes of the gateway's cache entries. `GATEWAY_CACHE_TTL` (seconds, 0 = no cache) is honoured exactly:
 * KV cannot expire an entry sooner than 60 s after writing it, so every entry also carries `staleAt` and the
 * gateway ignores it after that. A token's entry is never trusted past the token's own expiry either.
 */

/** KV refuses an `expirationTtl` below 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;

export function cacheEnabled(ttlSeconds: number): boolean {
  return ttlSeconds > 0;
}

/** Until when an entry written at `now` may be used: `ttl` later, and never past `expiresAt` (null: never). */
export function staleAtFor(ttlSeconds: number, now: number, expiresAt: number | null = null): number {
  const byTtl = now + ttlSeconds * 1000;
  return expiresAt === null ? byTtl : Math.min(byTtl, expiresAt);
}

/** The KV `expirationTtl` for an entry to be used until `staleAt`: KV's minimum, or more. */
export function kvExpirationTtl(staleAt: number, now: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, Math.ceil((staleAt - now) / 1000));
}

/** True while an entry may still be used. */
export function isFresh(entry: { staleAt: number } | null | undefined, now: number): boolean {
  return entry !== null && entry !== undefined && typeof entry.staleAt === "number" && entry.staleAt > now;
}

/**
 * How long a revocation marker must outlive the revocation: a validation entry a fill wrote back just after
 * it (it read the token as active just before) stays usable for up to the TTL, so the marker lasts a TTL plus a
 * minute of margin for clock differences between machines.
 */
export function revocationMarkerTtl(ttlSeconds: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, ttlSeconds + 60);
}

import { kvKeys } from "../core/cache-keys";
import type { CachedValidation, KeyFacts, RevocationMarker, RouteTable, TierTable } from "./facts";
import { isUnknownClientMarker } from "./unknown-clients";

/** What one gateway call found in KV; null where nothing (or nothing readable) was there. */
export interface CachedFacts {
  routes: RouteTable | null;
  tiers: TierTable | null;
  key: KeyFacts | null;
  validation: CachedValidation | null;
  revoked: boolean;
  /** The token's consumer key is one the registry did not know a moment ago (src/cache/unknown-clients.ts). */
  unknownKey: boolean;
}

const NOTHING: CachedFacts = {
  routes: null,
  tiers: null,
  key: null,
  validation: null,
  revoked: false,
  unknownKey: false,
};

/**
 * Reads every cache entry a call needs in one KV bulk read: the routing table and, when a token of ours was
 * presented, its consumer key's facts, its validation and its revocation marker. A KV failure reads as a miss:
 * the call then goes to the authorities (the registry and the token's shard), never around them.
 */
export async function readCachedFacts(
  env: Env,
  token: { consumerKey: string; hash: string } | null,
): Promise<CachedFacts> {
  const routesKey = kvKeys.gatewayApis();
  const tiersKey = kvKeys.gatewayTiers();
  const keys = [routesKey];
  if (token) {
    keys.push(tiersKey);
    keys.push(
      kvKeys.gatewayKey(token.consumerKey),
      kvKeys.validation(token.hash),
      kvKeys.revoked(token.hash),
      kvKeys.unknownClient(token.consumerKey),
    );
  }
  let found: Map<string, unknown>;
  try {
    found = await env.VALIDATION_CACHE.get(keys, "json");
  } catch (error) {
    console.error("gateway cache read failed:", error instanceof Error ? error.message : error);
    return NOTHING;
  }
  const entry = <T>(key: string): T | null => (found.get(key) as T | null | undefined) ?? null;
  if (!token) return { ...NOTHING, routes: entry<RouteTable>(routesKey) };
  return {
    routes: entry<RouteTable>(routesKey),
    tiers: entry<TierTable>(tiersKey),
    key: entry<KeyFacts>(kvKeys.gatewayKey(token.consumerKey)),
    validation: entry<CachedValidation>(kvKeys.validation(token.hash)),
    revoked: entry<RevocationMarker>(kvKeys.revoked(token.hash)) !== null,
    unknownKey: isUnknownClientMarker(entry(kvKeys.unknownClient(token.consumerKey)), Date.now()),
  };
}

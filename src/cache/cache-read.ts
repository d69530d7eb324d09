import { kvKeys } from "../core/cache-keys";
import { isFresh } from "./cache-policy";
import type { CachedValidation, KeyFacts, RevocationMarker, RouteTable, TierTable } from "./facts";
import { isUnknownClientMarker } from "./unknown-clients";

/** What a gateway call reads from KV: always its token's entry, the rest only when memory lacks it. */
export interface CacheWanted {
  tokenHash: string | null;
  version: boolean;
  routes: boolean;
  tiers: boolean;
  /** Consumer key whose facts are wanted, or null. */
  key: string | null;
}

/** What was found; null where nothing (or nothing fresh) was there. `version` is undefined when not read. */
export interface CacheFound {
  token: CachedValidation | RevocationMarker | null;
  version: string | null | undefined;
  routes: RouteTable | null;
  tiers: TierTable | null;
  key: KeyFacts | null;
  /** The wanted key is one the registry did not know a moment ago (src/cache/unknown-clients.ts). */
  unknownKey: boolean;
}

const NOTHING: CacheFound = {
  token: null,
  version: undefined,
  routes: null,
  tiers: null,
  key: null,
  unknownKey: false,
};

/**
 * Reads what a call needs from KV in one operation. On a warm call that is one key, the token's entry (a single
 * get); the version key every GATEWAY_FACTS_REFRESH seconds and facts missing from memory join it in one bulk
 * get. A KV failure reads as a miss: the call then goes to the authorities (the registry and the token's shard),
 * never around them.
 */
export async function readGatewayCache(env: Env, wanted: CacheWanted): Promise<CacheFound> {
  const names: string[] = [];
  if (wanted.tokenHash !== null) names.push(kvKeys.validation(wanted.tokenHash));
  if (wanted.version) names.push(kvKeys.gatewayVersion());
  if (wanted.routes) names.push(kvKeys.gatewayApis());
  if (wanted.tiers) names.push(kvKeys.gatewayTiers());
  // A key's facts are read with its unknown-client marker: facts missing from memory may mean a made-up key.
  if (wanted.key !== null) names.push(kvKeys.gatewayKey(wanted.key), kvKeys.unknownClient(wanted.key));
  if (names.length === 0) return NOTHING;
  let found: Map<string, unknown>;
  try {
    if (names.length === 1) {
      const name = names[0] as string;
      found = new Map([[name, await env.VALIDATION_CACHE.get(name, "json")]]);
    } else {
      found = await env.VALIDATION_CACHE.get(names, "json");
    }
  } catch (error) {
    console.error("gateway cache read failed:", error instanceof Error ? error.message : error);
    return NOTHING;
  }
  const now = Date.now();
  const entry = <T>(name: string): T | null => (found.get(name) as T | null | undefined) ?? null;
  const fresh = <T extends { staleAt: number }>(name: string): T | null => {
    const value = entry<T>(name);
    return isFresh(value, now) ? value : null;
  };
  return {
    token: wanted.tokenHash !== null ? entry(kvKeys.validation(wanted.tokenHash)) : null,
    version: wanted.version
      ? (entry<{ version: string }>(kvKeys.gatewayVersion())?.version ?? null)
      : undefined,
    routes: wanted.routes ? fresh<RouteTable>(kvKeys.gatewayApis()) : null,
    tiers: wanted.tiers ? fresh<TierTable>(kvKeys.gatewayTiers()) : null,
    key: wanted.key !== null ? fresh<KeyFacts>(kvKeys.gatewayKey(wanted.key)) : null,
    unknownKey: wanted.key !== null && isUnknownClientMarker(entry(kvKeys.unknownClient(wanted.key)), now),
  };
}

import { kvKeys } from "../core/cache-keys";
import { KV_MIN_TTL_SECONDS } from "./cache-policy";

/**
 * Consumer keys the registry did not know, remembered in KV for a short while so that a flood of requests naming
 * a made-up key, spread over any number of isolates, costs the registry one call per key and minute rather than
 * one per request (README "Architecture"). `/token`, `/revoke`, `/introspect` and the gateway read it in the KV
 * read they already make. Safe to cache: the registry mints consumer keys from 128 random bits, so a key nobody
 * has been given cannot become valid later, and a deleted application's keys never return.
 */
export const UNKNOWN_CLIENT_TTL_SECONDS = KV_MIN_TTL_SECONDS;

export interface UnknownClientMarker {
  /** Epoch ms after which the marker is ignored. */
  staleAt: number;
}

export function isUnknownClientMarker(value: unknown, now: number): boolean {
  const staleAt = (value as UnknownClientMarker | null)?.staleAt;
  return typeof staleAt === "number" && staleAt > now;
}

/** Records that the registry does not know `consumerKey`. A KV failure is logged: the cache is only a shield. */
export async function markUnknownClient(env: Env, consumerKey: string): Promise<void> {
  const marker: UnknownClientMarker = { staleAt: Date.now() + UNKNOWN_CLIENT_TTL_SECONDS * 1000 };
  try {
    await env.VALIDATION_CACHE.put(kvKeys.unknownClient(consumerKey), JSON.stringify(marker), {
      expirationTtl: UNKNOWN_CLIENT_TTL_SECONDS,
    });
  } catch (error) {
    console.error("unknown-client marker not written:", error instanceof Error ? error.message : error);
  }
}

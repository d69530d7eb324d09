import { kvKeys } from "../cache-keys";
import { registryStub } from "../durable/names";
import type { ClientRouting } from "../durable/registry";
import type { Env } from "../env";

/** How long an isolate trusts what it learned about a consumer key. Changes of shard count never happen. */
const KNOWN_TTL_MS = 60_000;
const UNKNOWN_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

const memory = new Map<string, { routing: ClientRouting | null; until: number }>();

/**
 * How many shards a consumer key has, to pick one without a round trip: this isolate's memory, then KV
 * (written by the registry when the key is created), then the registry itself. `null`: no such key.
 */
export async function lookupClient(env: Env, consumerKey: string): Promise<ClientRouting | null> {
  const now = Date.now();
  const cached = memory.get(consumerKey);
  if (cached && cached.until > now) return cached.routing;
  let routing = await env.VALIDATION_CACHE.get<ClientRouting>(kvKeys.client(consumerKey), "json");
  if (!routing) routing = await registryStub(env).getClientRouting(consumerKey);
  if (memory.size >= MAX_ENTRIES) memory.clear();
  memory.set(consumerKey, { routing, until: now + (routing ? KNOWN_TTL_MS : UNKNOWN_TTL_MS) });
  return routing;
}

/** 32-bit FNV-1a: spreads user names evenly over a key's shards. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The shard that holds a user's tokens for a consumer key: every grant for that user lands there, so its
 * refresh families rotate in one place and the user's tokens can be found without a scan.
 */
export function userShard(canonicalUser: string, shards: number): number {
  return fnv1a(canonicalUser) % shards;
}

export function randomShard(shards: number): number {
  return shards <= 1 ? 0 : (crypto.getRandomValues(new Uint32Array(1))[0] as number) % shards;
}

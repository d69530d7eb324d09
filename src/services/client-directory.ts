import { kvKeys } from "../core/cache-keys";
import { registryStub } from "../durable/names";
import type { ClientRouting } from "../durable/registry";

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

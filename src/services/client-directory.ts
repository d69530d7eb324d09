import { isUnknownClientMarker, markUnknownClient } from "../cache/unknown-clients";
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
 * (written by the registry when the key is created, or a marker that the key is unknown, in the same read),
 * then the registry itself. `null`: no such key.
 */
export async function lookupClient(env: Env, consumerKey: string): Promise<ClientRouting | null> {
  const now = Date.now();
  const cached = memory.get(consumerKey);
  if (cached && cached.until > now) return cached.routing;
  const routingKey = kvKeys.client(consumerKey);
  const unknownKey = kvKeys.unknownClient(consumerKey);
  const found = await env.VALIDATION_CACHE.get<unknown>([routingKey, unknownKey], "json");
  let routing = (found.get(routingKey) as ClientRouting | null | undefined) ?? null;
  const knownUnknown = !routing && isUnknownClientMarker(found.get(unknownKey), now);
  if (!routing && !knownUnknown) {
    routing = await registryStub(env).getClientRouting(consumerKey);
    if (!routing) await markUnknownClient(env, consumerKey);
  }
  if (memory.size >= MAX_ENTRIES) memory.clear();
  memory.set(consumerKey, { routing, until: now + (routing ? KNOWN_TTL_MS : UNKNOWN_TTL_MS) });
  return routing;
}

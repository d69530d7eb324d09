import { loginPrincipal, userStoreDomainOf } from "./identity";
import { PARTITION_NAME, type Partitions, partitionOf } from "./partitions";
import { fnv1a } from "./shard-routing";

/**
 * Where a user lives (README "Users: the user store"): users are spread over USER_STORE_SHARDS `UserStore`
 * Durable Objects by a hash of the name a log-in is throttled under (the canonical name, src/core/identity.ts),
 * so `alice`, `alice@carbon.super` and `PRIMARY/alice` reach one object, and log-ins of different users spread
 * over all of them. A partitioned domain (src/core/partitions.ts) has USER_STORE_SHARDS objects of its own.
 *
 * The count is fixed: changing it would move users to objects that do not hold them.
 */
export const USER_STORE_SHARDS = 32;

export interface UserStoreRoute {
  /** The partitioned domain, or null for the shared store. */
  partition: string | null;
  shard: number;
}

/**
 * FNV-1a with a final avalanche (MurmurHash3's fmix32): FNV-1a alone leaves its low bits, which the modulo
 * keeps, weakly mixed for names that differ only early and share a long tail (`…@carbon.super`).
 */
export function userStoreShard(principal: string): number {
  let hash = fnv1a(principal);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % USER_STORE_SHARDS;
}

/** The user store of a log-in name in any accepted spelling (or of a canonical name). */
export function userStoreRoute(name: string, partitions: Partitions): UserStoreRoute {
  const principal = loginPrincipal(name);
  const partition = partitionOf(partitions, userStoreDomainOf(principal));
  return { partition: partition?.domain ?? null, shard: userStoreShard(principal) };
}

/** The Durable Object name of a user store: `users/<shard>`, or `users:<DOMAIN>/<shard>` for a partition. */
export function userStoreName(route: UserStoreRoute): string {
  return route.partition === null ? `users/${route.shard}` : `users:${route.partition}/${route.shard}`;
}

const STORE_NAME = /^users(?::([A-Z0-9_]{1,32}))?\/(0|[1-9][0-9]?)$/;

export function parseUserStoreName(name: string): UserStoreRoute | null {
  const match = STORE_NAME.exec(name);
  if (!match) return null;
  const shard = Number(match[2]);
  return shard < USER_STORE_SHARDS ? { partition: match[1] ?? null, shard } : null;
}

/** Every user store: the shared ones, then each partition's. */
export function allUserStores(partitions: Partitions): UserStoreRoute[] {
  const routes: UserStoreRoute[] = [];
  for (const partition of [null, ...partitions.keys()]) {
    for (let shard = 0; shard < USER_STORE_SHARDS; shard++) routes.push({ partition, shard });
  }
  return routes;
}

export function sameUserStore(a: UserStoreRoute, b: UserStoreRoute): boolean {
  return a.partition === b.partition && a.shard === b.shard;
}

/** A user store's route as text, for a cookie that must find it again: `<n>`, or `<n>-<DOMAIN>` for a partition. */
export function formatUserStoreRoute(route: UserStoreRoute): string {
  return route.partition === null ? String(route.shard) : `${route.shard}-${route.partition}`;
}

/** The inverse of {@link formatUserStoreRoute}; null for text that names no store of this deployment. */
export function parseUserStoreRoute(text: string, partitions: Partitions): UserStoreRoute | null {
  const dash = text.indexOf("-");
  const shardText = dash < 0 ? text : text.slice(0, dash);
  const partition = dash < 0 ? null : text.slice(dash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(shardText) || Number(shardText) >= USER_STORE_SHARDS) return null;
  if (partition !== null && (!PARTITION_NAME.test(partition) || !partitions.has(partition))) return null;
  return { partition, shard: Number(shardText) };
}

import { userStoreDomainOf } from "./identity";
import { type Partitions, partitionOf } from "./partitions";
import type { TokenRoute } from "./token-format";

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

/**
 * Where a user's tokens for a consumer key live: the user's shard (above), in the shards of the user's partition
 * when the user's domain is partitioned (src/core/partitions.ts), so they are never stored with another domain's.
 */
export function userTokenRoute(
  consumerKey: string,
  canonicalUser: string,
  shards: number,
  partitions: Partitions,
): TokenRoute {
  const shard = userShard(canonicalUser, shards);
  const partition = partitionOf(partitions, userStoreDomainOf(canonicalUser));
  return partition ? { consumerKey, shard, partition: partition.domain } : { consumerKey, shard };
}

export function randomShard(shards: number): number {
  return shards <= 1 ? 0 : (crypto.getRandomValues(new Uint32Array(1))[0] as number) % shards;
}

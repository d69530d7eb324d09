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

import { fromBase64url, fromUtf8 } from "../crypto/encoding";
import { randomSecret } from "../crypto/secrets";

/**
 * Tokens and authorization codes are `<consumerKey>.<shard>.<256 random bits, base64url>`.
 *
 * The first two parts are the non-secret routing part (README "Architecture"): they name the client's Durable
 * Object shard that stores the token's hash, so any worker finds a token's owner from the token itself, in one
 * hop, without a scan. The token carries no user identity.
 *
 * A JWT access token (RFC 9068, src/durable/shard/access-tokens.ts) carries such a string as its `jti`, so it
 * names its shard the same way; like an opaque token it is stored and looked up only as the SHA-256 of the
 * whole string the client holds.
 */
export interface TokenRoute {
  consumerKey: string;
  shard: number;
  /**
   * A partitioned user-store domain (src/core/partitions.ts) whose users' tokens live in shards of their own:
   * the token says so (`<shard>-<DOMAIN>`), so its owner is still found without a scan. Absent: the shared shards.
   */
  partition?: string;
}

const CONSUMER_KEY = /^[A-Za-z0-9_-]{8,64}$/;
const RANDOM_PART = /^[A-Za-z0-9_-]{43}$/;
export const MAX_SHARDS = 64;

export function mintToken(route: TokenRoute): string {
  return `${route.consumerKey}.${shardPart(route)}.${randomSecret(32)}`;
}

/** The middle part of a token: the shard, and the partition when there is one (`3`, `3-FOO`). */
function shardPart(route: TokenRoute): string {
  return route.partition === undefined ? String(route.shard) : `${route.shard}-${route.partition}`;
}

const SHARD_PART = /^(0|[1-9][0-9]?)(?:-([A-Z0-9_]{1,32}))?$/;

/** Longest JWT whose `jti` is read; ours are well under 1 KiB. */
const MAX_JWT_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The routing part of a presented token, or `null` if it is not one of ours (then it is simply unknown). */
export function parseTokenRoute(token: string): TokenRoute | null {
  return opaqueRoute(token) ?? jwtRoute(token);
}

/**
 * The route in a JWT's `jti`, read without checking the signature: it only says where to look, and the
 * owning shard then finds the token by the hash of the whole string or not at all.
 */
function jwtRoute(token: string): TokenRoute | null {
  if (token.length > MAX_JWT_LENGTH || !JWT_SHAPE.test(token)) return null;
  try {
    const payload: unknown = JSON.parse(fromUtf8.decode(fromBase64url(token.split(".")[1] as string)));
    const jti = (payload as { jti?: unknown } | null)?.jti;
    return typeof jti === "string" ? opaqueRoute(jti) : null;
  } catch {
    return null;
  }
}

function opaqueRoute(token: string): TokenRoute | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [consumerKey, shardText, random] = parts as [string, string, string];
  const match = SHARD_PART.exec(shardText);
  if (!CONSUMER_KEY.test(consumerKey) || !RANDOM_PART.test(random) || !match) return null;
  const shard = Number(match[1]);
  if (shard >= MAX_SHARDS) return null;
  return match[2] === undefined ? { consumerKey, shard } : { consumerKey, shard, partition: match[2] };
}

export function isConsumerKey(value: string): boolean {
  return CONSUMER_KEY.test(value);
}

/**
 * The Durable Object name of one shard of a client's token store: `<consumerKey>/<shard>`, or
 * `<DOMAIN>:<consumerKey>/<shard>` for a partition's own shards.
 */
export function shardName(route: TokenRoute): string {
  const name = `${route.consumerKey}/${route.shard}`;
  return route.partition === undefined ? name : `${route.partition}:${name}`;
}

const SHARD_NAME = /^(?:([A-Z0-9_]{1,32}):)?([A-Za-z0-9_-]{8,64})\/(0|[1-9][0-9]?)$/;

/** The route a shard's object name stands for (the inverse of {@link shardName}); null for any other text. */
export function parseShardName(name: string): TokenRoute | null {
  const match = SHARD_NAME.exec(name);
  if (!match) return null;
  const shard = Number(match[3]);
  if (shard >= MAX_SHARDS) return null;
  const route = { consumerKey: match[2] as string, shard };
  return match[1] === undefined ? route : { ...route, partition: match[1] };
}

import { randomSecret } from "../crypto/secrets";

/**
 * Tokens and authorization codes are `<consumerKey>.<shard>.<256 random bits, base64url>`.
 *
 * The first two parts are the non-secret routing part (CONTRACT: "a token's owner Durable Object is found from
 * the token itself"): they name the client's Durable Object shard that stores the token's hash, so any
 * worker reaches the owner in one hop without a scan. The token carries no user identity.
 */
export interface TokenRoute {
  consumerKey: string;
  shard: number;
}

const CONSUMER_KEY = /^[A-Za-z0-9_-]{8,64}$/;
const RANDOM_PART = /^[A-Za-z0-9_-]{43}$/;
export const MAX_SHARDS = 64;

export function mintToken(route: TokenRoute): string {
  return `${route.consumerKey}.${route.shard}.${randomSecret(32)}`;
}

/** The routing part of a presented token, or `null` if it is not one of ours (then it is simply unknown). */
export function parseTokenRoute(token: string): TokenRoute | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [consumerKey, shardText, random] = parts as [string, string, string];
  if (!CONSUMER_KEY.test(consumerKey) || !RANDOM_PART.test(random) || !/^(0|[1-9][0-9]?)$/.test(shardText)) {
    return null;
  }
  const shard = Number(shardText);
  if (shard >= MAX_SHARDS) return null;
  return { consumerKey, shard };
}

export function isConsumerKey(value: string): boolean {
  return CONSUMER_KEY.test(value);
}

/** The Durable Object name of one shard of a client's token store. */
export function shardName(route: TokenRoute): string {
  return `${route.consumerKey}/${route.shard}`;
}

/** The two key types of an application (WSO2: production and sandbox keys). */
export type KeyType = "PRODUCTION" | "SANDBOX";
export const KEY_TYPES: readonly KeyType[] = ["PRODUCTION", "SANDBOX"];

/** README "JWT access tokens (RFC 9068)": an application's access tokens are opaque (default) or RFC 9068 JWTs. */
export type AccessTokenFormat = "opaque" | "JWT";

/**
 * What a client's token shards know about their consumer key. The registry owns it and pushes every change
 * to the shards; a shard that has none pulls it once.
 */
export interface ClientRecord {
  consumerKey: string;
  keyType: KeyType;
  /** SHA-256 (base64url) of the consumer secret; the secret itself is never stored. */
  secretHash: string;
  applicationId: string;
  applicationName: string;
  /** Canonical owner, e.g. `alice@carbon.super`: the AuthorizedUser of application tokens. */
  owner: string;
  tenant: string;
  /** Access-token validity override in seconds for this application's keys; null = the defaults. */
  accessTokenValidity: number | null;
  /** Access tokens as opaque strings (the default) or RFC 9068 JWTs; absent in records stored before it existed. */
  accessTokenFormat?: AccessTokenFormat;
  allowedDomains: string[];
  callbackUrls: string[];
  implicitEnabled: boolean;
  shards: number;
}

/** Every KV key the service writes, spelled in one place. KV is a cache: the Durable Objects are authoritative. */
export const kvKeys = {
  /** Routing facts of a consumer key: `{ shards, applicationId, keyType }`. */
  client: (consumerKey: string) => `client:${consumerKey}`,
  /** Gateway validation result of an access token, by the token's SHA-256. */
  validation: (tokenHash: string) => `token:${tokenHash}`,
} as const;

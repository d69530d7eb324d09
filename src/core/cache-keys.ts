/** Every KV key the service writes, spelled in one place. KV is a cache: the Durable Objects are authoritative. */
export const kvKeys = {
  /** Routing facts of a consumer key: `{ shards, applicationId, keyType }`. */
  client: (consumerKey: string) => `client:${consumerKey}`,
  /** A consumer key the registry did not know, remembered for a minute (src/cache/unknown-clients.ts). */
  unknownClient: (consumerKey: string) => `unknown-client:${consumerKey}`,
  /** Gateway validation result of an access token, by the token's SHA-256. */
  validation: (tokenHash: string) => `token:${tokenHash}`,
  /** Revocation marker of an access token, by hash: shadows any validation entry a racing fill wrote back. */
  revoked: (tokenHash: string) => `revoked:${tokenHash}`,
  /** Gateway routing table: every published API (`/{context}/{version}` and endpoints). Written by the registry. */
  gatewayApis: () => "gateway:apis",
  /** Gateway tier table: every throttling tier's limits. Written by the registry. */
  gatewayTiers: () => "gateway:tiers",
  /** Gateway facts of a consumer key: application, allowed domains, subscriptions. Written by the registry. */
  gatewayKey: (consumerKey: string) => `gateway:key:${consumerKey}`,
} as const;

/** Every KV key the service writes, spelled in one place. KV is a cache: the Durable Objects are authoritative. */
export const kvKeys = {
  /** Routing facts of a consumer key: `{ shards, applicationId, keyType }`. */
  client: (consumerKey: string) => `client:${consumerKey}`,
  /** A consumer key the registry did not know, remembered for a minute (src/cache/unknown-clients.ts). */
  unknownClient: (consumerKey: string) => `unknown-client:${consumerKey}`,
  /**
   * An access token's entry at the gateway, by the token's SHA-256: its validation (written by its shard), or a
   * revocation marker that replaces it (README "Validation cache"). The one key a warm gateway call reads.
   */
  validation: (tokenHash: string) => `token:${tokenHash}`,
  /** Gateway routing table: every published API (`/{context}/{version}` and endpoints). Written by the registry. */
  gatewayApis: () => "gateway:apis",
  /**
   * Version of the gateway's application-level facts (routes, tiers, consumer keys): rewritten by the registry after
   * every change of them, so isolates holding facts in memory know to drop them.
   */
  gatewayVersion: () => "gateway:version",
  /** Gateway tier table: every throttling tier's limits. Written by the registry. */
  gatewayTiers: () => "gateway:tiers",
  /** Gateway facts of a consumer key: application, allowed domains, subscriptions. Written by the registry. */
  gatewayKey: (consumerKey: string) => `gateway:key:${consumerKey}`,
} as const;

import type { ClientRecord, KeyType } from "../core/client-record";
import type { OriginList } from "../core/cors-config";
import type { TierPolicy } from "../core/tiers";

/**
 * What the gateway caches, in three independent layers so that each is invalidated by the change that ends it:
 * - the routing table (every API), rewritten by the registry when an API is created, changed or deleted;
 * - the facts of a consumer key (its application, allowed domains, subscriptions and tiers' names), rewritten by
 *   the registry when the application or one of its subscriptions changes;
 * - the tier table (every tier's limits), rewritten by the registry when a tier is created, changed or deleted;
 * - the validation of one access token (token-level facts only), written by the gateway after asking the
 *   token's shard, and shadowed by a revocation marker the moment the token is revoked.
 * Every entry carries `staleAt` (epoch ms): the gateway ignores it after that, whatever KV's own expiry.
 */

/** One published API as the gateway routes it: `/{context}/{version}` to an endpoint per key type. */
export interface GatewayApi {
  id: string;
  name: string;
  context: string;
  version: string;
  productionEndpoint: string;
  sandboxEndpoint: string | null;
  /** Origins a page may call this API from; null: `CORS_ALLOWED_ORIGINS`. */
  corsOrigins: OriginList | null;
}

export interface RouteTable {
  apis: GatewayApi[];
  staleAt: number;
}

/** The application-level facts of a consumer key that decide whether its tokens may call an API. */
export interface KeyFacts {
  consumerKey: string;
  keyType: KeyType;
  applicationId: string;
  applicationName: string;
  /** Canonical owner, e.g. `alice@carbon.super`. */
  owner: string;
  /** Lower-case; empty means every domain is allowed (WSO2: blank or "All"). */
  allowedDomains: string[];
  /** Token shards of the key: a token naming a shard at or above this is not ours. */
  shards: number;
  /** Subscribed API id → subscription tier. */
  subscriptions: Record<string, string>;
  /** The application's own tier (application-level throttling). */
  applicationTier: string;
  staleAt: number;
}

/** Every tier's limits by name, as the gateway applies them; rewritten by the registry when a tier changes. */
export interface TierTable {
  tiers: Record<string, TierPolicy>;
  staleAt: number;
}

/** One subscription of a consumer key's application: the API and its tier. */
export interface SubscriptionFacts {
  apiId: string;
  tier: string;
}

/** What the gateway remembers about one access token (never the token itself: the key is its SHA-256). */
export interface CachedValidation {
  consumerKey: string;
  keyType: KeyType;
  /** End user of a user token; the application owner for an application token. */
  user: string;
  isApplicationToken: boolean;
  scope: string;
  /** Epoch ms; null when the token never expires. Checked on every use of the entry. */
  expiresAt: number | null;
  staleAt: number;
}

/** Written by revocation over a token's validation (`token:<hash>`): the token is refused while it is there. */
export interface RevocationMarker {
  revokedAt: number;
}

/** What the gateway needs to know about an access token; cached in KV under the token's hash. */
export interface AccessTokenFacts {
  consumerKey: string;
  applicationId: string;
  applicationName: string;
  keyType: KeyType;
  /** End user for user tokens; the application owner for application tokens. */
  user: string;
  isApplicationToken: boolean;
  scope: string;
  issuedAt: number;
  /** Epoch ms, or null when the token never expires. */
  expiresAt: number | null;
  allowedDomains: string[];
}

/** The routing fields of an API (the registry's view of it carries more). */
export function toGatewayApi(api: GatewayApi): GatewayApi {
  return {
    id: api.id,
    name: api.name,
    context: api.context,
    version: api.version,
    productionEndpoint: api.productionEndpoint,
    sandboxEndpoint: api.sandboxEndpoint,
    corsOrigins: api.corsOrigins,
  };
}

export function buildTierTable(tiers: readonly TierPolicy[], staleAt: number): TierTable {
  return {
    tiers: Object.fromEntries(
      tiers.map((tier) => [
        tier.name,
        {
          name: tier.name,
          requestCount: tier.requestCount,
          unitTime: tier.unitTime,
          stopOnQuotaReach: tier.stopOnQuotaReach,
        },
      ]),
    ),
    staleAt,
  };
}

export function buildKeyFacts(
  record: ClientRecord,
  subscriptions: readonly SubscriptionFacts[],
  applicationTier: string,
  staleAt: number,
): KeyFacts {
  return {
    consumerKey: record.consumerKey,
    keyType: record.keyType,
    applicationId: record.applicationId,
    applicationName: record.applicationName,
    owner: record.owner,
    allowedDomains: record.allowedDomains.map((domain) => domain.toLowerCase()),
    shards: record.shards,
    subscriptions: Object.fromEntries(
      subscriptions.map((subscription) => [subscription.apiId, subscription.tier]),
    ),
    applicationTier,
    staleAt,
  };
}

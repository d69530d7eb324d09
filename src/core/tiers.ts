/**
 * Throttling tiers (README "Throttling"): a tier lets `requestCount` calls through per
 * `unitTime` seconds; `Unlimited` has no limit. The registry keeps them as admin data; the gateway enforces them.
 */

/** The built-in tier without a limit: the default of subscriptions and applications. */
export const UNLIMITED = "Unlimited";

/** A tier as the gateway applies it. `requestCount` and `unitTime` are null only for an unlimited tier. */
export interface TierPolicy {
  name: string;
  requestCount: number | null;
  /** Seconds. */
  unitTime: number | null;
  /** Over the limit: refuse with 429 (true) or forward marked `X-Ekm-Throttled: true` (false). */
  stopOnQuotaReach: boolean;
}

/** A tier that limits calls: both numbers set. */
export interface LimitedTier extends TierPolicy {
  requestCount: number;
  unitTime: number;
}

export function isLimited(tier: TierPolicy): tier is LimitedTier {
  return tier.requestCount !== null && tier.unitTime !== null;
}

/** Bounds of an admin-defined tier (a larger window or count is refused as input, 400). */
export const TIER_LIMITS = {
  maxRequestCount: 1_000_000_000,
  /** One year. */
  maxUnitTime: 366 * 24 * 3600,
  maxNameLength: 64,
  maxDescriptionLength: 500,
} as const;

/** Tier names: a letter or digit, then letters, digits, `.`, `_`, `-` (they appear in URLs, headers and JWTs). */
export const TIER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** WSO2 API Manager 1.10's tiers, present on a fresh start. */
export const DEFAULT_TIERS: ReadonlyArray<TierPolicy & { description: string }> = [
  {
    name: UNLIMITED,
    requestCount: null,
    unitTime: null,
    stopOnQuotaReach: true,
    description: "Allows unlimited requests",
  },
  {
    name: "Gold",
    requestCount: 20,
    unitTime: 60,
    stopOnQuotaReach: true,
    description: "Allows 20 requests per minute",
  },
  {
    name: "Silver",
    requestCount: 5,
    unitTime: 60,
    stopOnQuotaReach: true,
    description: "Allows 5 requests per minute",
  },
  {
    name: "Bronze",
    requestCount: 1,
    unitTime: 60,
    stopOnQuotaReach: true,
    description: "Allows 1 request per minute",
  },
];

import type { Config } from "../../core/config";
import { isLimited, type TierPolicy } from "../../core/tiers";
import { counterNames, counterStub } from "../../durable/names";
import { GatewayError, ThrottledError } from "../../errors/gateway-error";
import { CounterUnavailable, type Leaser, PermitBook, type Take } from "./permits";

export type ThrottleLevel = "subscription" | "application";

/** What throttling decided for a call it lets through. */
export interface ThrottleOutcome {
  /** Over a limit without stop on quota reach: forwarded with `X-Ekm-Throttled: true`. */
  throttled: boolean;
  /** `RateLimit-*` for the answer; none when no tier of the call has a limit. */
  headers: Record<string, string>;
}

export interface ThrottledCall {
  applicationId: string;
  apiId: string;
  subscriptionTier: TierPolicy;
  applicationTier: TierPolicy;
}

/** This isolate's permits (src/gateway/throttle/permits.ts). */
const book = new PermitBook();

const leaserFor =
  (env: Env): Leaser =>
  (counter, request) =>
    counterStub(env, counter).lease(request);

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Applies a call's two tiers (README "Throttling"): the subscription's (this application on this API) and the
 * application's (all its APIs). Both must let the call through; the one that refuses first decides. A call
 * refused here counts nowhere: a permit taken at one level is given back when the other refuses. Unlimited
 * tiers touch no counter. Throws a 429 (stop on quota reach) or, when a counter cannot be reached and
 * THROTTLE_FAIL_OPEN is false, a 503.
 */
export async function throttleCall(env: Env, config: Config, call: ThrottledCall): Promise<ThrottleOutcome> {
  const levels: Array<{ level: ThrottleLevel; tier: TierPolicy; counter: string }> = [
    {
      level: "subscription",
      tier: call.subscriptionTier,
      counter: counterNames.subscription(call.applicationId, call.apiId),
    },
    {
      level: "application",
      tier: call.applicationTier,
      counter: counterNames.application(call.applicationId),
    },
  ];
  const leaser = leaserFor(env);
  const taken: Array<{ level: ThrottleLevel; take: Take & { ok: true }; putBack: () => void }> = [];
  let over: { level: ThrottleLevel; tier: TierPolicy; take: Take & { ok: false } } | null = null;
  for (const { level, tier, counter } of levels) {
    if (!isLimited(tier)) continue;
    const pool = book.pool(counter, tier);
    let take: Take;
    try {
      take = await pool.take(leaser);
    } catch (error) {
      if (!(error instanceof CounterUnavailable)) throw error;
      console.error(`${level} ${error.message}`);
      if (config.throttleFailOpen) continue;
      for (const permit of taken) permit.putBack();
      throw new GatewayError(
        "temporarily_unavailable",
        "the call could not be counted against its tier; try again",
      );
    }
    if (take.ok) {
      taken.push({ level, take, putBack: () => pool.putBack() });
      continue;
    }
    if (tier.stopOnQuotaReach) {
      for (const permit of taken) permit.putBack();
      throw new ThrottledError(tier.name, level, take.limit, seconds(take.retryAfterMs));
    }
    over ??= { level, tier, take };
  }
  if (over) {
    return {
      throttled: true,
      headers: rateLimitHeaders(over.take.limit, 0, over.take.retryAfterMs),
    };
  }
  if (taken.length === 0) return { throttled: false, headers: {} };
  // The policy closest to refusing is the one a client must heed (IETF httpapi ratelimit headers).
  const nearest = taken.reduce((a, b) => (b.take.remaining < a.take.remaining ? b : a));
  return {
    throttled: false,
    headers: rateLimitHeaders(nearest.take.limit, nearest.take.remaining, nearest.take.resetMs),
  };
}

function rateLimitHeaders(limit: number, remaining: number, resetMs: number): Record<string, string> {
  return {
    "RateLimit-Limit": String(limit),
    "RateLimit-Remaining": String(Math.max(0, remaining)),
    "RateLimit-Reset": String(seconds(resetMs)),
  };
}

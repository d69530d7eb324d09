import type { LimitedTier } from "../../core/tiers";
import type { LeaseGrant, LeaseRequest } from "../../durable/throttle/window";

/** Asks a counter for permits (a Durable Object call); throws when the counter cannot be reached. */
export type Leaser = (counter: string, request: LeaseRequest) => Promise<LeaseGrant>;

/** A permit taken, or why none was. */
export type Take =
  | { ok: true; limit: number; remaining: number; resetMs: number }
  | { ok: false; limit: number; retryAfterMs: number };

/** A lease is sized to cover this much of the observed rate of calls (README "How the limit holds globally"). */
export const LEASE_SPAN_MS = 2_000;
/** After a counter failed, calls do not ask it again for this long (they fail closed or open at once). */
export const FAILURE_BACKOFF_MS = 1_000;
/** A lease that takes longer than this counts as a failure. */
export const LEASE_TIMEOUT_MS = 2_000;
/** Refills one call may wait for before it gives up (others took each batch first). */
const MAX_REFILLS = 16;
/** Pools kept per isolate; beyond it the idle ones go. */
const MAX_POOLS = 10_000;

export class CounterUnavailable extends Error {
  constructor(cause: unknown) {
    super(`throttling counter unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "CounterUnavailable";
  }
}

/**
 * The permits this isolate holds for one counter under one tier's limits. Calls spend them locally; when none are
 * left, one lease (however many calls wait) asks the counter for a batch sized from this isolate's observed rate.
 * A batch is only good until its window ends. When the counter grants nothing, the quota is spent until the
 * window ends and no call asks again before then.
 */
class PermitPool {
  private permits = 0;
  private windowEnd = 0;
  /** What the counter said was left for everybody after its last grant. */
  private remainingElsewhere = 0;
  private exhaustedUntil = 0;
  private failedUntil = 0;
  private inflight: Promise<void> | null = null;
  private waiting = 0;
  /** Calls that took a permit since the last lease, and when that lease came: the observed rate. */
  private spent = 0;
  private leasedAt = 0;
  lastUsed = 0;

  constructor(
    private readonly counter: string,
    private readonly tier: LimitedTier,
  ) {}

  /** `leaser` reaches the counter when this isolate's permits are spent (the call's bindings). */
  async take(leaser: Leaser): Promise<Take> {
    const limit = this.tier.requestCount;
    for (let refills = 0; ; refills++) {
      const now = Date.now();
      this.lastUsed = now;
      if (now >= this.windowEnd) this.permits = 0;
      if (this.permits > 0) {
        this.permits -= 1;
        this.spent += 1;
        return {
          ok: true,
          limit,
          remaining: this.remainingElsewhere + this.permits,
          resetMs: this.windowEnd - now,
        };
      }
      if (this.exhaustedUntil > now) return { ok: false, limit, retryAfterMs: this.exhaustedUntil - now };
      if (this.failedUntil > now) throw new CounterUnavailable("it failed less than a second ago");
      if (refills >= MAX_REFILLS) return { ok: false, limit, retryAfterMs: 1_000 };
      this.waiting += 1;
      try {
        await this.refill(leaser);
      } finally {
        this.waiting -= 1;
      }
    }
  }

  /** Gives back a permit this call took but did not use (the other level refused the call). */
  putBack(): void {
    if (Date.now() < this.windowEnd) {
      this.permits += 1;
      this.spent -= 1;
    }
  }

  private refill(leaser: Leaser): Promise<void> {
    this.inflight ??= this.lease(leaser).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async lease(leaser: Leaser): Promise<void> {
    const now = Date.now();
    const elapsed = Math.max(50, now - this.leasedAt);
    const rate = this.leasedAt === 0 ? 0 : (this.spent * 1000) / elapsed;
    const want = Math.max(this.waiting, 1, Math.ceil((rate * LEASE_SPAN_MS) / 1000));
    let grant: LeaseGrant;
    try {
      grant = await withTimeout(
        leaser(this.counter, {
          limit: this.tier.requestCount,
          unitTime: this.tier.unitTime,
          want,
        }),
        LEASE_TIMEOUT_MS,
      );
    } catch (error) {
      this.failedUntil = Date.now() + FAILURE_BACKOFF_MS;
      throw new CounterUnavailable(error);
    }
    this.failedUntil = 0;
    this.leasedAt = Date.now();
    this.spent = 0;
    if (grant.windowEnd !== this.windowEnd) this.permits = 0;
    this.windowEnd = grant.windowEnd;
    this.permits += grant.granted;
    this.remainingElsewhere = grant.remaining;
    this.exhaustedUntil = grant.granted === 0 ? grant.windowEnd : 0;
  }
}

/** Every permit pool of this isolate, by counter and the tier limits it was leased under. */
export class PermitBook {
  private readonly pools = new Map<string, PermitPool>();

  /** The pool of a counter under a tier: a tier change (other limits) starts a new one on the next call. */
  pool(counter: string, tier: LimitedTier): PermitPool {
    const key = `${counter}|${tier.requestCount}|${tier.unitTime}`;
    let pool = this.pools.get(key);
    if (!pool) {
      if (this.pools.size >= MAX_POOLS) this.dropIdle();
      pool = new PermitPool(counter, tier);
      this.pools.set(key, pool);
    }
    return pool;
  }

  private dropIdle(): void {
    const cutoff = Date.now() - 60_000;
    for (const [key, pool] of this.pools) if (pool.lastUsed < cutoff) this.pools.delete(key);
    if (this.pools.size >= MAX_POOLS) this.pools.clear();
  }
}

export type { PermitPool };

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

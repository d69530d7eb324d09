import type { KeyFacts, RouteTable, TierTable } from "./facts";

/**
 * The gateway's application-level facts held in isolate memory (README "Validation cache"): the routing table,
 * the tier table and the facts of the consumer keys this isolate has served. They change only through the admin
 * API, so a warm call reads none of them from KV; what keeps them current:
 * - every change makes the registry rewrite the version key (`gateway:version`), which the gateway reads with a
 *   call's token entry at most every GATEWAY_FACTS_REFRESH seconds (0: on every call); a new version drops them all;
 * - the isolate that served an admin change drops them when it answers (src/admin/index.ts);
 * - none is kept longer than {@link MAX_HELD_MS}, nor past the `staleAt` it was published with.
 * Token-level facts are never held here: a token's validation or revocation is read from KV on every call.
 */

/** Longest time a fact stays in memory before it is read again (bounds changes seen through KV elsewhere). */
export const MAX_HELD_MS = 30_000;
/** Consumer keys held at most; beyond it the memory of keys starts over. */
const MAX_KEYS = 10_000;

interface Held<T> {
  value: T;
  until: number;
}

export class GatewayMemory {
  private version: string | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private routes: Held<RouteTable> | null = null;
  private tiers: Held<TierTable> | null = null;
  private readonly keys = new Map<string, Held<KeyFacts>>();

  /** Whether this call should read the version key too (`refreshMs` 0: every call). */
  versionDue(now: number, refreshMs: number): boolean {
    return now - this.checkedAt >= refreshMs;
  }

  /** The version key as just read (null: absent). A version other than the one the facts were held under drops them. */
  observeVersion(version: string | null, now: number): void {
    if (version !== this.version) this.forget();
    this.version = version;
    this.checkedAt = now;
  }

  /** Drops every fact (an admin change this isolate served, or a new version). */
  forget(): void {
    this.routes = null;
    this.tiers = null;
    this.keys.clear();
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  routeTable(now: number): RouteTable | null {
    return live(this.routes, now);
  }
  tierTable(now: number): TierTable | null {
    return live(this.tiers, now);
  }
  key(consumerKey: string, now: number): KeyFacts | null {
    return live(this.keys.get(consumerKey) ?? null, now);
  }

  holdRoutes(table: RouteTable, now: number): void {
    this.routes = held(table, now);
  }
  holdTiers(table: TierTable, now: number): void {
    this.tiers = held(table, now);
  }
  holdKey(facts: KeyFacts, now: number): void {
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
    this.keys.set(facts.consumerKey, held(facts, now));
  }
}

function held<T extends { staleAt: number }>(value: T, now: number): Held<T> {
  return { value, until: Math.min(value.staleAt, now + MAX_HELD_MS) };
}

function live<T>(entry: Held<T> | null, now: number): T | null {
  return entry && entry.until > now ? entry.value : null;
}

/** This isolate's memory. */
export const gatewayMemory = new GatewayMemory();

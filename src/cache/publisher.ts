import { kvKeys } from "../core/cache-keys";
import type { ClientRecord } from "../core/client-record";
import type { TierPolicy } from "../core/tiers";
import { cacheEnabled, kvExpirationTtl, staleAtFor } from "./cache-policy";
import {
  buildKeyFacts,
  buildTierTable,
  type GatewayApi,
  type KeyFacts,
  type RouteTable,
  type SubscriptionFacts,
  type TierTable,
  toGatewayApi,
} from "./facts";

/** Read access to the registry's current state; called when a write runs, never earlier. */
export interface GatewaySources {
  apis(): GatewayApi[];
  key(consumerKey: string): { record: ClientRecord; subscriptions: SubscriptionFacts[]; tier: string } | null;
  tiers(): TierPolicy[];
}

/** KV allows about one write a second per key and answers 429 beyond: retry with back-off before giving up. */
const RETRY_DELAYS_MS = [0, 250, 1000, 2000];

/**
 * Runs inside the Registry Durable Object and is the only writer of the gateway's application-level cache
 * (the routing table and the facts of each consumer key). Writes go through one queue and each reads the
 * registry's state when it runs, so the last write of a key always carries the latest state: a cache fill that
 * raced an admin change can never write the older state back over the newer one.
 */
export class GatewayPublisher {
  private tail: Promise<void> = Promise.resolve();
  /** KV key → until when the value this instance last wrote is still in KV (so a fill need not write again). */
  private readonly written = new Map<string, number>();

  /** `ttl`: GATEWAY_CACHE_TTL in seconds (0: the gateway caches nothing, and nothing is written). */
  constructor(
    private readonly env: Env,
    private readonly ttl: number,
    private readonly sources: GatewaySources,
  ) {}

  /** The current routing table, for a gateway whose cache missed; written to KV unless a fresh copy is there. */
  routes(): RouteTable {
    const table = this.routeTable(Date.now());
    this.fillIfNeeded(kvKeys.gatewayApis(), () => this.writeRoutes());
    return table;
  }

  /** The current facts of a consumer key (null: no such key), likewise. */
  key(consumerKey: string): KeyFacts | null {
    const facts = this.keyFacts(consumerKey, Date.now());
    if (facts) this.fillIfNeeded(kvKeys.gatewayKey(consumerKey), () => this.writeKey(consumerKey));
    return facts;
  }

  /** The current tier table, likewise. */
  tiers(): TierTable {
    const table = this.tierTable(Date.now());
    this.fillIfNeeded(kvKeys.gatewayTiers(), () => this.writeTiers());
    return table;
  }

  /** After a tier was created, changed or deleted. Resolves once the new table (and version) is in KV. */
  async republishTiers(): Promise<void> {
    await this.enqueue(() => this.writeTiers());
    await this.enqueue(() => this.writeVersion());
  }

  /** After an API was created, changed or deleted. Resolves once the new table is in KV. */
  async republishRoutes(): Promise<void> {
    await this.enqueue(() => this.writeRoutes());
    await this.enqueue(() => this.writeVersion());
  }

  /** After an application, its keys or its subscriptions changed (or it was deleted). Resolves once written
   *  (facts, then the version). */
  async republishKeys(consumerKeys: readonly string[]): Promise<void> {
    await Promise.all(consumerKeys.map((consumerKey) => this.enqueue(() => this.writeKey(consumerKey))));
    await this.enqueue(() => this.writeVersion());
  }

  private routeTable(now: number): RouteTable {
    return { apis: this.sources.apis().map(toGatewayApi), staleAt: staleAtFor(this.ttl, now) };
  }

  private tierTable(now: number): TierTable {
    return buildTierTable(this.sources.tiers(), staleAtFor(this.ttl, now));
  }

  private keyFacts(consumerKey: string, now: number): KeyFacts | null {
    const found = this.sources.key(consumerKey);
    return found
      ? buildKeyFacts(found.record, found.subscriptions, found.tier, staleAtFor(this.ttl, now))
      : null;
  }

  private fillIfNeeded(kvKey: string, write: () => Promise<void>): void {
    if (!cacheEnabled(this.ttl)) return;
    if ((this.written.get(kvKey) ?? 0) > Date.now()) return;
    // Claimed now, so concurrent misses of the same key cause one write, not one each.
    this.written.set(kvKey, Date.now() + 5_000);
    this.enqueue(write).catch((error: unknown) => {
      this.written.delete(kvKey);
      console.error(`gateway cache fill of ${kvKey} failed:`, error instanceof Error ? error.message : error);
    });
  }

  private async writeRoutes(): Promise<void> {
    if (!cacheEnabled(this.ttl)) return;
    const now = Date.now();
    const table = this.routeTable(now);
    await this.put(kvKeys.gatewayApis(), table, table.staleAt, now);
  }

  /**
   * A new version of the gateway's facts, written after the facts themselves: an isolate that sees it drops what
   * it holds in memory and reads them again (src/cache/gateway-memory.ts). It never expires.
   */
  private async writeVersion(): Promise<void> {
    if (!cacheEnabled(this.ttl)) return;
    const body = JSON.stringify({ version: crypto.randomUUID(), at: Date.now() });
    await retry(() => this.env.VALIDATION_CACHE.put(kvKeys.gatewayVersion(), body));
  }

  private async writeTiers(): Promise<void> {
    if (!cacheEnabled(this.ttl)) return;
    const now = Date.now();
    const table = this.tierTable(now);
    await this.put(kvKeys.gatewayTiers(), table, table.staleAt, now);
  }

  private async writeKey(consumerKey: string): Promise<void> {
    if (!cacheEnabled(this.ttl)) return;
    const now = Date.now();
    const kvKey = kvKeys.gatewayKey(consumerKey);
    const facts = this.keyFacts(consumerKey, now);
    if (facts) {
      await this.put(kvKey, facts, facts.staleAt, now);
    } else {
      await retry(() => this.env.VALIDATION_CACHE.delete(kvKey));
      this.written.delete(kvKey);
    }
  }

  private async put(kvKey: string, value: unknown, staleAt: number, now: number): Promise<void> {
    const body = JSON.stringify(value);
    await retry(() =>
      this.env.VALIDATION_CACHE.put(kvKey, body, { expirationTtl: kvExpirationTtl(staleAt, now) }),
    );
    // Refresh a little before it goes stale, so readers rarely see a miss.
    this.written.set(kvKey, staleAt - Math.min(30_000, (staleAt - now) / 10));
  }

  /** Serializes every write this instance makes; a failed write does not stop the ones after it. */
  private enqueue(write: () => Promise<void>): Promise<void> {
    const run = this.tail.then(write);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

async function retry(operation: () => Promise<unknown>): Promise<void> {
  let lastError: unknown;
  for (const delay of RETRY_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      await operation();
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

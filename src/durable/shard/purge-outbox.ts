import { publishRevocationMarkers } from "../../cache/validation-cache";

/** First retry of a pending purge, then doubling up to the cap (README "Revoke API": the purge guarantee). */
export const PURGE_RETRY_MS = 2_000;
const PURGE_RETRY_MAX_MS = 60_000;
/** Markers published per alarm run (KV reads keys 100 at a time). */
const BATCH = 100;

/**
 * The shard's durable outbox of gateway-cache purges. Every statement that ends an access token the gateway has
 * validated (src/durable/shard/schema.ts: revoke, rotation, revocation of a family, user or key) records the
 * token's hash here in the same transaction, so a purge can never be lost between the shard's commit and KV:
 * the caller publishes the revocation markers at once, and the shard's alarm publishes whatever is still pending
 * (a marker KV already has is not written again), retrying with back-off until KV has taken every one.
 */
export class PurgeOutbox {
  private failures = 0;

  constructor(
    private readonly env: Env,
    private readonly ttl: number,
    private readonly sql: SqlStorage,
    /** Resolves once no validation of these tokens is being written (src/durable/shard/gateway-fills.ts). */
    private readonly settled: (hashes: readonly string[]) => Promise<void> = async () => {},
  ) {}

  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_purges").one().n;
  }

  /** Publishes pending markers; returns when to try again (epoch ms), or null once nothing is pending. */
  async publish(now: number): Promise<number | null> {
    const hashes = this.sql
      .exec<{ hash: string }>("SELECT hash FROM pending_purges ORDER BY since LIMIT ?", BATCH)
      .toArray()
      .map((row) => row.hash);
    if (hashes.length === 0) return null;
    try {
      await this.settled(hashes);
      await publishRevocationMarkers(this.env, this.ttl, hashes, { skipPresent: true });
    } catch (error) {
      this.failures += 1;
      console.error(
        `gateway purge of ${hashes.length} token(s) failed, retrying:`,
        error instanceof Error ? error.message : error,
      );
      return now + Math.min(PURGE_RETRY_MAX_MS, PURGE_RETRY_MS * 2 ** (this.failures - 1));
    }
    this.failures = 0;
    for (const hash of hashes) this.sql.exec("DELETE FROM pending_purges WHERE hash = ?", hash);
    return this.pendingCount() > 0 ? now : null;
  }
}

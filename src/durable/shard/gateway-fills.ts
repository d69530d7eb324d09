import { cacheEnabled } from "../../cache/cache-policy";
import type { AccessTokenFacts } from "../../cache/facts";
import { validationEntry, writeValidation } from "../../cache/validation-cache";

/**
 * The shard writes the gateway's validation of its tokens itself (README "Validation cache"), and keeps track of
 * the writes still under way, so that a call that revokes a token answers only after that token's write has
 * landed. The revocation marker written after the answer is then always the later write of the token's key: no
 * validation can be written back over it, and the gateway needs no second key to know a token was revoked.
 */
export class GatewayFills {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly env: Env) {}

  /** Starts writing the validation of an active token the gateway asked about (not awaited by the gateway). */
  start(hash: string, facts: AccessTokenFacts, ttlSeconds: number, validatedAt: number): void {
    if (!cacheEnabled(ttlSeconds)) return;
    const before = this.pending.get(hash) ?? Promise.resolve();
    const write: Promise<void> = before
      .then(() => writeValidation(this.env, hash, validationEntry(facts, ttlSeconds, validatedAt)))
      .catch((error: unknown) =>
        console.error("gateway cache fill failed:", error instanceof Error ? error.message : error),
      )
      .finally(() => {
        if (this.pending.get(hash) === write) this.pending.delete(hash);
      });
    this.pending.set(hash, write);
  }

  /** Resolves once no write of these tokens' validations is under way. */
  async settled(hashes: readonly string[]): Promise<void> {
    const writes = hashes.map((hash) => this.pending.get(hash)).filter((write) => write !== undefined);
    if (writes.length > 0) await Promise.all(writes);
  }
}

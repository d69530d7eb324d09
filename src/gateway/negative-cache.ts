/**
 * In-isolate memory of answers that can only refuse. A token hash the shard called inactive stays inactive
 * for ever (tokens are never re-activated and 256 random bits are never minted twice), and a consumer key the
 * registry did not know is refused for a few seconds; so no admin call or revocation ever needs to reach this
 * memory in other isolates. Nothing that authorizes a call is kept in memory: that lives in KV, where
 * revocation and admin changes reach it.
 */
const MAX_ENTRIES = 10_000;
const DEAD_TOKEN_MS = 10 * 60_000;
const UNKNOWN_KEY_MS = 5_000;

class ExpiringSet {
  private readonly until = new Map<string, number>();
  constructor(private readonly lifetimeMs: number) {}

  has(key: string, now: number): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(key);
    return false;
  }

  add(key: string, now: number): void {
    if (this.until.size >= MAX_ENTRIES) this.until.clear();
    this.until.set(key, now + this.lifetimeMs);
  }
}

/** Hashes of access tokens known to be revoked, expired or unknown. */
export const deadTokens = new ExpiringSet(DEAD_TOKEN_MS);
/** Consumer keys the registry did not know. */
export const unknownKeys = new ExpiringSet(UNKNOWN_KEY_MS);

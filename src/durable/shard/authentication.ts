import type { ClientCredentials } from "../../core/client-credentials";
import type { ClientRecord } from "../../core/client-record";
import { refuse } from "../../core/oauth-failure";
import { UNKNOWN_SOURCE } from "../../core/request-source";
import type { TokenRoute } from "../../core/token-format";
import { hashSecret, timingSafeEqual } from "../../crypto/secrets";
import { shardStub } from "../names";
import type { ClientThrottle, FailureVerdict } from "./client-throttle";
import type { ClientRecordStore } from "./record-store";

const throttled = (seconds: number) =>
  refuse(
    "invalid_client",
    `too many failed client authentications from this address; try again in ${seconds} seconds`,
    seconds,
  );

/**
 * RFC 6749 §2.3.1 client authentication, against the stored SHA-256 of the secret, in constant time, throttled
 * per source (README "Lock-out and throttling"; src/durable/shard/client-throttle.ts): a source locked out of
 * the key is refused before its secret is looked at; a wrong secret is counted at the key's home shard (0),
 * which refuses to count past the limit and tells every shard when a source is locked out. The right secret
 * from any other source is never affected, and the success path never leaves this shard.
 */
export class ClientAuthentication {
  constructor(
    private readonly env: Env,
    private readonly throttle: ClientThrottle,
    private readonly records: ClientRecordStore,
  ) {}

  /** The client's record once its credentials check out; throws a `Refusal` (invalid_client) otherwise. */
  async authenticate(
    route: TokenRoute,
    credentials: ClientCredentials,
    allowPublic: boolean,
  ): Promise<ClientRecord> {
    const record = await this.records.load(route);
    if (!record || record.consumerKey !== credentials.clientId)
      throw refuse("invalid_client", "unknown client");
    const source = credentials.source ?? UNKNOWN_SOURCE;
    const wait = this.throttle.lockedFor(source, Date.now());
    if (wait > 0) throw throttled(wait);
    if (credentials.clientSecret === null) {
      if (allowPublic) return record;
      throw refuse("invalid_client", "client authentication failed: client_secret is required");
    }
    const presentedHash = await hashSecret(credentials.clientSecret);
    if (timingSafeEqual(presentedHash, record.secretHash)) return record;
    const verdict = await this.countFailure(route, record, source);
    if (!verdict.counted) throw throttled(Math.max(1, Math.ceil((verdict.lockedUntil - Date.now()) / 1000)));
    throw refuse("invalid_client", "client authentication failed");
  }

  /** Home shard only: counts a failure another shard saw (see {@link countFailure}). */
  async countRemoteFailure(consumerKey: string, source: string): Promise<FailureVerdict> {
    const route = { consumerKey, shard: 0 };
    const record = await this.records.load(route);
    if (!record) return { counted: true, lockedUntil: 0, newlyLocked: false, paceMs: 0 };
    return this.countAtHome(route, record, source);
  }

  /** Told by the home shard that `source` is locked out of the key until `lockedUntil`. */
  applyLock(source: string, lockedUntil: number): void {
    this.throttle.applyLock(source, lockedUntil);
  }

  private async countFailure(
    route: TokenRoute,
    record: ClientRecord,
    source: string,
  ): Promise<FailureVerdict> {
    // The home shard is the shared shard 0, also for a partition's shards: one count per key and source.
    if (route.shard === 0 && route.partition === undefined) return this.countAtHome(route, record, source);
    const home = { consumerKey: route.consumerKey, shard: 0 };
    const verdict = await shardStub(this.env, home).recordAuthFailure(route.consumerKey, source);
    if (verdict.lockedUntil > Date.now()) this.throttle.applyLock(source, verdict.lockedUntil);
    return verdict;
  }

  /**
   * Counts in one synchronous step (so the limit is exact however many failures arrive at once); a failure that
   * locks the source is answered only once every shard of the key knows; past the key's slow-down threshold the
   * answer is held back PACE_MS.
   */
  private async countAtHome(
    route: TokenRoute,
    record: ClientRecord,
    source: string,
  ): Promise<FailureVerdict> {
    const verdict = this.throttle.count(source, Date.now());
    if (verdict.newlyLocked) {
      await Promise.all(
        Array.from({ length: record.shards - 1 }, (_, i) => {
          const other = { consumerKey: route.consumerKey, shard: i + 1 };
          return shardStub(this.env, other).applyLock(other, source, verdict.lockedUntil);
        }),
      );
    }
    if (verdict.paceMs > 0) await new Promise((resolve) => setTimeout(resolve, verdict.paceMs));
    return verdict;
  }
}

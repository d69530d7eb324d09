import type { ClientCredentials } from "../../core/client-credentials";
import type { ClientRecord } from "../../core/client-record";
import { refuse } from "../../core/oauth-failure";
import type { TokenRoute } from "../../core/token-format";
import { hashSecret, timingSafeEqual } from "../../crypto/secrets";
import { type FailureState, lockedFor, recordFailure } from "../lockout";
import { shardStub } from "../names";
import type { ClientTable } from "./client-table";
import type { ClientRecordStore } from "./record-store";

/**
 * RFC 6749 §2.3.1 client authentication, against the stored SHA-256 of the secret, in constant time, with
 * lockout: LOCKOUT.MAX_FAILURES failures lock the key for a while, even for the right secret. Failures are
 * counted per consumer key at its home shard (0), which broadcasts a lock to the other shards, so spreading
 * guesses over shards gains nothing. The success path never leaves this shard.
 */
export class ClientAuthentication {
  constructor(
    private readonly env: Env,
    private readonly clients: ClientTable,
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
    const presentedHash =
      credentials.clientSecret === null ? null : await hashSecret(credentials.clientSecret);
    const now = Date.now();
    const state = this.failureState();
    const wait = lockedFor(state, now);
    if (wait > 0) {
      throw refuse(
        "invalid_client",
        `too many failed authentication attempts; try again in ${wait} seconds`,
        wait,
      );
    }
    if (presentedHash === null) {
      if (allowPublic) return record;
      throw refuse("invalid_client", "client authentication failed: client_secret is required");
    }
    if (!timingSafeEqual(presentedHash, record.secretHash)) {
      await this.countFailure(route, record);
      throw refuse("invalid_client", "client authentication failed");
    }
    if (state.failures > 0) this.clients.setFailures(0, 0, 0);
    return record;
  }

  /** Home shard only: counts a failure another shard saw; returns the key's lock expiry (0 if none). */
  async countRemoteFailure(consumerKey: string): Promise<number> {
    const route = { consumerKey, shard: 0 };
    const record = await this.records.load(route);
    if (!record) return 0;
    await this.countFailure(route, record);
    return this.clients.get()?.locked_until ?? 0;
  }

  /** Told by the home shard that the key is locked until `lockedUntil`. */
  async applyLock(route: TokenRoute, lockedUntil: number): Promise<void> {
    if (await this.records.load(route)) this.clients.setFailures(0, 0, lockedUntil);
  }

  private async countFailure(route: TokenRoute, record: ClientRecord): Promise<void> {
    if (route.shard !== 0) {
      const home = { consumerKey: route.consumerKey, shard: 0 };
      const lockedUntil = await shardStub(this.env, home).recordAuthFailure(route.consumerKey);
      if (lockedUntil > Date.now()) this.clients.setFailures(0, 0, lockedUntil);
      return;
    }
    const now = Date.now();
    const before = this.failureState();
    const next = recordFailure(before, now);
    this.clients.setFailures(next.failures, next.windowStart, next.lockedUntil);
    if (next.lockedUntil > now && next.lockedUntil !== before.lockedUntil) {
      await Promise.all(
        Array.from({ length: record.shards - 1 }, (_, i) => {
          const other = { consumerKey: route.consumerKey, shard: i + 1 };
          return shardStub(this.env, other).applyLock(other, next.lockedUntil);
        }),
      );
    }
  }

  private failureState(): FailureState {
    const row = this.clients.get();
    return {
      failures: row?.failures ?? 0,
      windowStart: row?.window_start ?? 0,
      lockedUntil: row?.locked_until ?? 0,
    };
  }
}

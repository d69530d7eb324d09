import { DurableObject } from "cloudflare:workers";
import type { AccessTokenFacts } from "../cache/facts";
import type { ClientCredentials } from "../core/client-credentials";
import type { ClientRecord } from "../core/client-record";
import { type Config, readConfig } from "../core/config";
import { grantScope } from "../core/scope";
import type { TokenRoute } from "../core/token-format";
import { hashSecret, timingSafeEqual, unsealWith } from "../crypto/secrets";
import type { Env } from "../env";
import { invalidClient, OAuthError, oauthErrorData } from "../errors/oauth-error";
import { type FailureState, lockedFor, recordFailure } from "./lockout";
import { registryStub, shardStub } from "./names";
import { type CodeContext, issueCode, redeemCode } from "./shard/codes";
import { isPublicClientGrant, mintPair, SEAL_SIBLING } from "./shard/minting";
import type {
  AuthorizationClient,
  CodeIssueRequest,
  CodeRedeemRequest,
  Introspection,
  IssueRequest,
  RefreshRequest,
  RevocationOutcome,
  RevokeRequest,
  ShardResult,
  TokenResponseBody,
} from "./shard/protocol";
import { rotateRefreshToken } from "./shard/rotation";
import { ClientTable, type TokenRow, TokenTable } from "./shard/schema";
import { type JwtSigner, signerFor } from "./signing/signer";

/** How long a shard trusts that a consumer key it could not find does not exist before asking again. */
const UNKNOWN_CLIENT_TTL_MS = 5_000;

/**
 * One shard of one consumer key's token store: the only place that holds that key's tokens, checks its
 * secret and counts its authentication failures. Named `<consumerKey>/<shard>`; tokens name their shard.
 */
export class ClientShard extends DurableObject<Env> {
  private readonly tokens: TokenTable;
  private readonly clients: ClientTable;
  private readonly config: Config;
  /** Signs the access tokens of applications whose format is JWT. */
  private readonly signer: JwtSigner;
  private record: ClientRecord | null | undefined;
  private unknownUntil = 0;
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.tokens = new TokenTable(ctx.storage.sql);
    this.clients = new ClientTable(ctx.storage.sql);
    this.config = readConfig(env);
    this.signer = signerFor(env, this.config);
    this.tokens.init();
  }

  // ---- client record ------------------------------------------------------------------------------------

  /** Pushed by the registry on every change of the key; `revoke` ends tokens issued under the old settings. */
  async syncClient(record: ClientRecord | null, revoke: "none" | "all" | "application"): Promise<string[]> {
    const now = Date.now();
    const purge = this.ctx.storage.transactionSync(() => {
      if (record) this.clients.put(JSON.stringify(record));
      else this.clients.remove();
      if (revoke === "none") return [];
      return this.tokens.revokeAll(now, revoke === "application" ? "client_credentials" : undefined);
    });
    this.record = record;
    if (revoke !== "none") await this.scheduleCleanup(now + 60_000);
    return purge;
  }

  /**
   * The key's record as this shard holds it (memory, else its row), without asking the registry. An instance
   * property, not a prototype method: the gateway tests count calls into the object by wrapping its prototype,
   * and a read of local state is not such a call.
   */
  private readonly storedRecord = (): ClientRecord | null => {
    if (this.record) return this.record;
    const row = this.clients.get();
    if (!row) return null;
    this.record = JSON.parse(row.record) as ClientRecord;
    return this.record;
  };

  private async loadClient(route: TokenRoute): Promise<ClientRecord | null> {
    const stored = this.storedRecord();
    if (stored) return stored;
    if (Date.now() < this.unknownUntil) return null;
    const record = await registryStub(this.env).getClientRecord(route.consumerKey, route.shard);
    if (!record) {
      this.unknownUntil = Date.now() + UNKNOWN_CLIENT_TTL_MS;
      return null;
    }
    this.clients.put(JSON.stringify(record));
    this.record = record;
    return record;
  }

  /**
   * RFC 6749 §2.3.1 client authentication, against the stored SHA-256 of the secret, in constant time.
   * LOCKOUT.MAX_FAILURES failures lock the key on this shard for a while, even for the right secret.
   */
  private async authenticate(
    route: TokenRoute,
    credentials: ClientCredentials,
    allowPublic: boolean,
  ): Promise<ClientRecord> {
    const record = await this.loadClient(route);
    if (!record || record.consumerKey !== credentials.clientId) throw invalidClient("unknown client");
    const presentedHash =
      credentials.clientSecret === null ? null : await hashSecret(credentials.clientSecret);
    const now = Date.now();
    const state = this.failureState();
    const wait = lockedFor(state, now);
    if (wait > 0) {
      const error = invalidClient(`too many failed authentication attempts; try again in ${wait} seconds`);
      error.headers["Retry-After"] = String(wait);
      throw error;
    }
    if (presentedHash === null) {
      if (allowPublic) return record;
      throw invalidClient("client authentication failed: client_secret is required");
    }
    if (!timingSafeEqual(presentedHash, record.secretHash)) {
      await this.countFailure(route, record);
      throw invalidClient("client authentication failed");
    }
    if (state.failures > 0) this.clients.setFailures(0, 0, 0);
    return record;
  }

  /**
   * Failures are counted per consumer key at its home shard (0), which broadcasts a lock to the other shards,
   * so spreading guesses over shards gains nothing. The success path never leaves this shard.
   */
  private async countFailure(route: TokenRoute, record: ClientRecord): Promise<void> {
    if (route.shard !== 0) {
      const lockedUntil = await shardStub(this.env, {
        consumerKey: route.consumerKey,
        shard: 0,
      }).recordAuthFailure(route.consumerKey);
      if (lockedUntil > Date.now()) this.clients.setFailures(0, 0, lockedUntil);
      return;
    }
    const now = Date.now();
    const before = this.failureState();
    const next = recordFailure(before, now);
    this.clients.setFailures(next.failures, next.windowStart, next.lockedUntil);
    if (next.lockedUntil > now && next.lockedUntil !== before.lockedUntil) {
      await Promise.all(
        Array.from({ length: record.shards - 1 }, (_, i) =>
          shardStub(this.env, { consumerKey: route.consumerKey, shard: i + 1 }).applyLock(
            { consumerKey: route.consumerKey, shard: i + 1 },
            next.lockedUntil,
          ),
        ),
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

  /** Home shard only: counts a failure seen by another shard; returns the key's lock expiry (0 if none). */
  async recordAuthFailure(consumerKey: string): Promise<number> {
    const record = await this.loadClient({ consumerKey, shard: 0 });
    if (!record) return 0;
    await this.countFailure({ consumerKey, shard: 0 }, record);
    return this.clients.get()?.locked_until ?? 0;
  }

  /** Told by the home shard that the key is locked until `lockedUntil`. */
  async applyLock(route: TokenRoute, lockedUntil: number): Promise<void> {
    if (await this.loadClient(route)) this.clients.setFailures(0, 0, lockedUntil);
  }

  /** Authenticates a client for endpoints that do their work elsewhere (e.g. /introspect). */
  async authenticateClient(
    route: TokenRoute,
    credentials: ClientCredentials,
  ): Promise<ShardResult<{ tenant: string; consumerKey: string }>> {
    return this.run(async () => {
      const record = await this.authenticate(route, credentials, false);
      return { tenant: record.tenant, consumerKey: record.consumerKey };
    });
  }

  // ---- token endpoint ----------------------------------------------------------------------------------

  /** Authenticates the client and mints a token for a grant that has already established the user (if any). */
  async issueToken(request: IssueRequest): Promise<ShardResult<TokenResponseBody>> {
    return this.run(async () => {
      const record = await this.authenticate(
        request.route,
        request.credentials,
        request.allowPublic ?? false,
      );
      return this.mint(record, request);
    });
  }

  private async mint(record: ClientRecord, request: IssueRequest): Promise<TokenResponseBody> {
    const scope = grantScope(request.scope, record.keyType);
    const now = Date.now();
    const pair = await mintPair(
      this.config,
      record,
      request.route,
      {
        grantType: request.grantType,
        user: request.user,
        scope,
        grantedScope: scope,
        withRefresh: request.withRefresh,
        jwt: { issuer: request.issuer, signer: this.signer },
      },
      now,
    );
    this.ctx.storage.transactionSync(() => {
      for (const row of pair.rows) this.tokens.insert(row);
    });
    await this.scheduleCleanup(pair.rows[0]?.purge_after ?? null);
    return pair.body;
  }

  /** RFC 6749 §6 refresh, single use, serialized here (see rotateRefreshToken). */
  async rotateRefreshToken(request: RefreshRequest): Promise<ShardResult<TokenResponseBody>> {
    let purge: string[] = [];
    const result = await this.run(async () => {
      const hash = await hashSecret(request.refreshToken);
      const presented = this.tokens.find(hash);
      const allowPublic = presented?.kind === "refresh" && isPublicClientGrant(presented);
      const record = await this.authenticate(request.route, request.credentials, allowPublic);
      const outcome = await rotateRefreshToken(
        {
          config: this.config,
          record,
          route: request.route,
          tokens: this.tokens,
          jwt: { issuer: request.issuer, signer: this.signer },
          transaction: (fn) => this.ctx.storage.transactionSync(fn),
        },
        { token: request.refreshToken, hash },
        request.scope,
        Date.now(),
      );
      purge = outcome.purge;
      if (outcome.error) throw outcome.error;
      return outcome.body as TokenResponseBody;
    });
    result.purge = purge;
    if (result.ok) await this.scheduleCleanup(Date.now() + 60_000);
    return result;
  }

  // ---- authorization endpoint (RFC 6749 §4.1, §4.2) ------------------------------------------------------

  /** What /authorize shows and checks about the client: name, callback URLs, whether implicit is on. */
  async describeClient(route: TokenRoute): Promise<AuthorizationClient | null> {
    const record = await this.loadClient(route);
    if (!record || record.consumerKey !== route.consumerKey) return null;
    return {
      consumerKey: record.consumerKey,
      applicationName: record.applicationName,
      keyType: record.keyType,
      tenant: record.tenant,
      callbackUrls: record.callbackUrls,
      implicitEnabled: record.implicitEnabled,
    };
  }

  /** Mints an authorization code for a user who approved the request on this (the user's) shard. */
  async issueAuthorizationCode(request: CodeIssueRequest): Promise<ShardResult<{ code: string }>> {
    return this.run(async () => {
      const record = await this.loadClient(request.route);
      if (!record || record.consumerKey !== request.route.consumerKey) throw invalidClient("unknown client");
      const issued = await issueCode(this.codeContext(record, request.route), request, Date.now());
      await this.scheduleCleanup(issued.purgeAfter);
      return { code: issued.code };
    });
  }

  /** RFC 6749 §4.1.3: exchanges a code (see src/durable/shard/codes.ts). Public clients are held to PKCE there. */
  async redeemAuthorizationCode(request: CodeRedeemRequest): Promise<ShardResult<TokenResponseBody>> {
    let purge: string[] = [];
    const result = await this.run(async () => {
      const record = await this.authenticate(request.route, request.credentials, true);
      const outcome = await redeemCode(this.codeContext(record, request.route), request, Date.now());
      purge = outcome.purge;
      if (outcome.error) throw outcome.error;
      await this.scheduleCleanup(outcome.purgeAfter);
      return outcome.body as TokenResponseBody;
    });
    result.purge = purge;
    return result;
  }

  private codeContext(record: ClientRecord, route: TokenRoute): CodeContext {
    return {
      config: this.config,
      record,
      route,
      tokens: this.tokens,
      signer: this.signer,
      transaction: (fn) => this.ctx.storage.transactionSync(fn),
    };
  }

  // ---- revocation and introspection ---------------------------------------------------------------------

  /**
   * RFC 7009 revocation with WSO2's response headers. Revoking either token of a pair revokes the whole
   * grant; the sibling's value is recovered from its sealed copy with the presented token.
   */
  async revokeToken(request: RevokeRequest): Promise<ShardResult<RevocationOutcome>> {
    let purge: string[] = [];
    const result = await this.run(async () => {
      const hash = await hashSecret(request.token);
      const found = this.tokens.find(hash);
      // A client of the implicit grant has no secret to present: WSO2 lets it revoke such tokens by client_id.
      const record = await this.authenticate(
        request.route,
        request.credentials,
        found?.grant_type === "implicit",
      );
      const now = Date.now();
      if (!found || !isLive(found, now) || found.kind === "code") return {};
      const sibling = found.sibling_sealed
        ? await unsealWith(request.token, SEAL_SIBLING, found.sibling_sealed)
        : null;
      const revoked = this.ctx.storage.transactionSync(() => {
        const row = this.tokens.find(hash);
        if (!row || !isLive(row, now)) return false;
        purge = this.tokens.revoke("family", row.family, now);
        return true;
      });
      if (!revoked) return {};
      const outcome: RevocationOutcome = { authorizedUser: found.user ?? record.owner };
      if (found.kind === "access") {
        outcome.revokedAccessToken = request.token;
        if (sibling) outcome.revokedRefreshToken = sibling;
      } else {
        outcome.revokedRefreshToken = request.token;
        if (sibling) outcome.revokedAccessToken = sibling;
      }
      return outcome;
    });
    result.purge = purge;
    return result;
  }

  /** Revokes every token and code of a user on this shard (user deleted, or password changed). */
  async revokeUserTokens(username: string): Promise<string[]> {
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => this.tokens.revoke("user", username, now));
  }

  /** RFC 7662 §2.2. `callerTenant` null is the admin; a client sees only tokens of its own tenant. */
  async introspectToken(token: string, callerTenant: string | null): Promise<Introspection> {
    const hash = await hashSecret(token);
    const row = this.tokens.find(hash);
    const record = this.storedRecord();
    const now = Date.now();
    if (!row || !record || !isLive(row, now) || row.kind === "code") return { active: false };
    if (callerTenant !== null && callerTenant !== record.tenant) return { active: false };
    const username = row.user ?? record.owner;
    return {
      active: true,
      scope: row.scope,
      client_id: record.consumerKey,
      username,
      token_type: row.kind === "access" ? "Bearer" : "refresh_token",
      ...(row.expires_at !== null ? { exp: Math.floor(row.expires_at / 1000) } : {}),
      iat: Math.floor(row.issued_at / 1000),
      sub: username,
      key_type: record.keyType,
    };
  }

  /** What the gateway needs about an access token, by its hash; null when it is not an active access token. */
  async validateAccessToken(hash: string): Promise<AccessTokenFacts | null> {
    const row = this.tokens.find(hash);
    const now = Date.now();
    if (!row || row.kind !== "access" || !isLive(row, now)) return null;
    const record = this.storedRecord();
    if (!record) return null;
    this.tokens.markGatewaySeen(hash);
    return {
      consumerKey: record.consumerKey,
      applicationId: record.applicationId,
      applicationName: record.applicationName,
      keyType: record.keyType,
      user: row.user ?? record.owner,
      isApplicationToken: row.user === null,
      scope: row.scope,
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
      allowedDomains: record.allowedDomains,
    };
  }

  // ---- housekeeping -------------------------------------------------------------------------------------

  /** Deletes expired, revoked and spent rows whose retention has passed, then re-arms itself. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.tokens.purge(now);
    this.alarmAt = null;
    await this.scheduleCleanup(this.tokens.nextPurge());
  }

  private async scheduleCleanup(at: number | null): Promise<void> {
    if (at === null) return;
    // Batch clean-ups: at most one a minute.
    const when = Math.max(at, Date.now() + 60_000);
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= when) return;
    this.alarmAt = when;
    await this.ctx.storage.setAlarm(when);
  }

  /** Test and operator view: how many rows the shard holds. */
  async rowCount(): Promise<number> {
    return this.tokens.count();
  }

  private async run<T>(work: () => Promise<T>): Promise<ShardResult<T>> {
    try {
      return { ok: true, value: await work(), purge: [] };
    } catch (error) {
      if (error instanceof OAuthError) return { ok: false, error: oauthErrorData(error), purge: [] };
      throw error;
    }
  }
}

function isLive(row: TokenRow, now: number): boolean {
  return row.state === "active" && (row.expires_at === null || row.expires_at > now);
}

import { DurableObject } from "cloudflare:workers";
import type { AccessTokenFacts } from "../cache/facts";
import type { ClientCredentials } from "../core/client-credentials";
import type { ClientRecord } from "../core/client-record";
import { readConfig } from "../core/config";
import { Refusal, refuse } from "../core/oauth-failure";
import type { TokenRoute } from "../core/token-format";
import { hashSecret } from "../crypto/secrets";
import { migrate } from "./migrations";
import { ClientAuthentication } from "./shard/authentication";
import { CleanupAlarm } from "./shard/cleanup";
import { ClientTable } from "./shard/client-table";
import { ClientThrottle, type FailureVerdict } from "./shard/client-throttle";
import { issueCode, redeemCode } from "./shard/codes";
import { GatewayFills } from "./shard/gateway-fills";
import { accessTokenFacts, introspection, subjectToken } from "./shard/introspection";
import { SHARD_MIGRATIONS } from "./shard/migrations";
import { isPublicClientGrant, issueTokens, type ShardStore } from "./shard/minting";
import {
  type AuthorizationClient,
  accepted,
  type CodeIssueRequest,
  type CodeRedeemRequest,
  type Introspection,
  type IssueRequest,
  type RefreshRequest,
  type RevocationOutcome,
  type RevokeRequest,
  refused,
  type ShardResult,
  type SubjectToken,
  type TokenResponseBody,
} from "./shard/protocol";
import { PurgeOutbox } from "./shard/purge-outbox";
import { ClientRecordStore } from "./shard/record-store";
import { revokeToken } from "./shard/revocation";
import { rotateRefreshToken } from "./shard/rotation";
import { TokenTable } from "./shard/schema";
import { SpentForms } from "./shard/spent-forms";
import { UserEpochs } from "./shard/user-epochs";
import { signerFor } from "./signing/signer";
import type { UserEpoch } from "./user-epoch";

/**
 * One shard of one consumer key's token store: the only place that holds that key's tokens, checks its
 * secret and counts its authentication failures. Named `<consumerKey>/<shard>`; tokens name their shard.
 *
 * This class is the RPC surface only: each method authenticates where it must and hands over to the module
 * of its concern (src/durable/shard/). A client-caused failure is thrown there as a `Refusal` and answered
 * here as data (`ShardResult`).
 */
export class ClientShard extends DurableObject<Env> {
  private readonly store: ShardStore;
  private readonly tokens: TokenTable;
  private readonly records: ClientRecordStore;
  private readonly authentication: ClientAuthentication;
  private readonly cleanup: CleanupAlarm;
  private readonly users: UserEpochs;
  private readonly fills: GatewayFills;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, SHARD_MIGRATIONS);
    this.tokens = new TokenTable(ctx.storage.sql);
    const forms = new SpentForms(ctx.storage.sql);
    this.users = new UserEpochs(env, ctx.storage.sql, () => objectName(ctx));
    const config = readConfig(env);
    this.store = {
      config,
      tokens: this.tokens,
      forms,
      users: this.users,
      signer: signerFor(env, config),
      transaction: (fn) => ctx.storage.transactionSync(fn),
    };
    const clients = new ClientTable(ctx.storage.sql);
    this.records = new ClientRecordStore(env, clients);
    this.authentication = new ClientAuthentication(env, new ClientThrottle(ctx.storage.sql), this.records);
    this.fills = new GatewayFills(env);
    const fills = this.fills;
    // The outbox writes a marker only once no validation of that token is being written (gateway-fills.ts).
    const outbox = new PurgeOutbox(env, config.gatewayCacheTtl, ctx.storage.sql, (hashes) =>
      fills.settled(hashes),
    );
    this.cleanup = new CleanupAlarm(ctx.storage, this.tokens, forms, outbox);
  }

  // ---- the key's record and its failed-authentication throttle ------------------------------------------

  /** Pushed by the registry on every change of the key; `revoke` ends tokens issued under the old settings. */
  async syncClient(record: ClientRecord | null, revoke: "none" | "all" | "application"): Promise<string[]> {
    const now = Date.now();
    const purge = this.ctx.storage.transactionSync(() => {
      this.records.replace(record);
      if (revoke === "none") return [];
      return this.tokens.revokeAll(now, revoke === "application" ? "client_credentials" : undefined);
    });
    if (revoke !== "none") await this.cleanup.scheduleSoon();
    if (purge.length > 0) await this.cleanup.schedulePurge();
    await this.fills.settled(purge);
    return purge;
  }

  /** Home shard only: counts a failed authentication from `source` seen by another shard. */
  async recordAuthFailure(consumerKey: string, source: string): Promise<FailureVerdict> {
    return this.authentication.countRemoteFailure(consumerKey, source);
  }

  /** Told by the home shard that `source` is locked out of the key until `lockedUntil`. */
  async applyLock(route: TokenRoute, source: string, lockedUntil: number): Promise<void> {
    if (await this.records.load(route)) this.authentication.applyLock(source, lockedUntil);
  }

  /** Authenticates a client whose request does its work elsewhere (another client's token, /introspect). */
  async authenticateClient(
    route: TokenRoute,
    credentials: ClientCredentials,
  ): Promise<ShardResult<{ tenant: string; consumerKey: string }>> {
    return answer(this.cleanup, this.fills, async () => {
      const record = await this.authentication.authenticate(route, credentials, false);
      return accepted({ tenant: record.tenant, consumerKey: record.consumerKey });
    });
  }

  // ---- token endpoint (RFC 6749 §4, §6) ------------------------------------------------------------------

  /** Authenticates the client and mints a token for a grant that has already established the user (if any). */
  async issueToken(request: IssueRequest): Promise<ShardResult<TokenResponseBody>> {
    return answer(this.cleanup, this.fills, async () => {
      const { route, credentials } = request;
      const record = await this.authentication.authenticate(route, credentials, request.allowPublic ?? false);
      const issued = await issueTokens({ ...this.store, record, route }, request, Date.now());
      await this.cleanup.schedule(issued.purgeAfter);
      return accepted(issued.body);
    });
  }

  /** RFC 6749 §6 refresh, single use, serialized here (src/durable/shard/rotation.ts). */
  async rotateRefreshToken(request: RefreshRequest): Promise<ShardResult<TokenResponseBody>> {
    return answer(this.cleanup, this.fills, async () => {
      const hash = await hashSecret(request.refreshToken);
      // Only a client without a secret needs the row first: it may rotate only a public client's grant.
      const row = request.credentials.clientSecret === null ? this.tokens.findPresented(hash) : undefined;
      const allowPublic = row?.kind === "refresh" && isPublicClientGrant(row);
      const record = await this.authentication.authenticate(request.route, request.credentials, allowPublic);
      const context = { ...this.store, record, route: request.route };
      const result = await rotateRefreshToken(
        context,
        { token: request.refreshToken, hash, row },
        { scope: request.scope, issuer: request.issuer },
        Date.now(),
      );
      if (result.ok) await this.cleanup.scheduleSoon();
      return result;
    });
  }

  /** RFC 6749 §4.1.3: exchanges a code (src/durable/shard/codes.ts). Public clients are held to PKCE there. */
  async redeemAuthorizationCode(request: CodeRedeemRequest): Promise<ShardResult<TokenResponseBody>> {
    return answer(this.cleanup, this.fills, async () => {
      const record = await this.authentication.authenticate(request.route, request.credentials, true);
      const result = await redeemCode({ ...this.store, record, route: request.route }, request, Date.now());
      if (!result.ok) return result;
      await this.cleanup.schedule(result.value.purgeAfter);
      return accepted(result.value.body);
    });
  }

  // ---- authorization endpoint (RFC 6749 §4.1, §4.2) ------------------------------------------------------

  /** What /authorize shows and checks about the client: name, callback URLs, whether implicit is on. */
  async describeClient(route: TokenRoute): Promise<AuthorizationClient | null> {
    const record = await this.records.load(route);
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
    return answer(this.cleanup, this.fills, async () => {
      const record = await this.records.load(request.route);
      if (!record || record.consumerKey !== request.route.consumerKey) {
        throw refuse("invalid_client", "unknown client");
      }
      const issued = await issueCode({ ...this.store, record, route: request.route }, request, Date.now());
      await this.cleanup.schedule(issued.purgeAfter);
      return accepted({ code: issued.code });
    });
  }

  // ---- revocation and introspection (RFC 7009, RFC 7662) -------------------------------------------------

  /** RFC 7009 with WSO2's response headers (src/durable/shard/revocation.ts). */
  async revokeToken(request: RevokeRequest): Promise<ShardResult<RevocationOutcome>> {
    return answer(this.cleanup, this.fills, async () => {
      const hash = await hashSecret(request.token);
      const row = this.tokens.find(hash);
      // RFC 7009 §2.1: a public client has no secret, so it revokes with client_id alone the tokens it obtained
      // as one: those of the implicit grant (as WSO2 allows) and those of a PKCE code redeemed without a secret.
      const allowPublic = row !== null && (row.grant_type === "implicit" || isPublicClientGrant(row));
      const record = await this.authentication.authenticate(request.route, request.credentials, allowPublic);
      const presented = { token: request.token, hash, row };
      const revoked = await revokeToken(this.store, record, presented, Date.now());
      return accepted(revoked.outcome, revoked.purge);
    });
  }

  /**
   * The user's password changed or the user was deleted (README "Users"): in one step, the user's new epoch is
   * recorded, so no credential checked before it mints here any more, and every token and code of the user on
   * this shard is revoked.
   */
  async endUserCredentials(username: string, epoch: UserEpoch): Promise<string[]> {
    const now = Date.now();
    const purge = this.ctx.storage.transactionSync(() => {
      this.users.record(username, epoch);
      return this.tokens.revoke("user", username, now);
    });
    if (purge.length > 0) await this.cleanup.schedulePurge();
    await this.fills.settled(purge);
    return purge;
  }

  /** RFC 8693: the subject token of a token exchange, if it is an active access token of this shard. */
  async describeSubjectToken(token: string): Promise<SubjectToken | null> {
    const row = this.tokens.find(await hashSecret(token));
    return subjectToken(row, this.records.stored(), Date.now());
  }

  /** RFC 7662 §2.2. `callerTenant` null is the operator; a client sees only tokens of its own tenant. */
  async introspectToken(token: string, callerTenant: string | null): Promise<Introspection> {
    const row = this.tokens.find(await hashSecret(token));
    return introspection(row, this.records.stored(), callerTenant, Date.now());
  }

  /**
   * What the gateway needs about an access token, by its hash; null when it is not an active access token. The
   * validation is also written to the gateway's cache for `ttlSeconds` (GATEWAY_CACHE_TTL; 0: not written), by
   * this object, so that revocation can order its marker after it (src/durable/shard/gateway-fills.ts).
   */
  async validateAccessToken(hash: string, ttlSeconds = 0): Promise<AccessTokenFacts | null> {
    const now = Date.now();
    const facts = accessTokenFacts(this.tokens.find(hash), this.records.stored(), now);
    if (facts) {
      this.tokens.markGatewaySeen(hash);
      this.fills.start(hash, facts, ttlSeconds, now);
    }
    return facts;
  }

  override async alarm(): Promise<void> {
    await this.cleanup.run();
  }
}

/**
 * Answers a refusal thrown below (a `Refusal`) as data; anything else is a fault and propagates. A result that
 * ended access tokens the gateway has seen arms the purge outbox's alarm (src/durable/shard/purge-outbox.ts), and
 * is answered once no validation of those tokens is being written any more (src/durable/shard/gateway-fills.ts).
 */
async function answer<T>(
  alarm: CleanupAlarm,
  fills: GatewayFills,
  work: () => Promise<ShardResult<T>>,
): Promise<ShardResult<T>> {
  let result: ShardResult<T>;
  try {
    result = await work();
  } catch (error) {
    if (error instanceof Refusal) return refused(error.failure);
    throw error;
  }
  if (result.purge.length > 0) await alarm.schedulePurge();
  await fills.settled(result.purge);
  return result;
}

/**
 * The shard's own name (`<consumerKey>/<shard>`): requests always reach a shard by name (src/durable/names.ts),
 * but an object woken by its alarm has no name, so nothing may ask for it before a request needs it.
 */
function objectName(ctx: DurableObjectState): string {
  if (ctx.id.name === undefined) throw new Error("a client shard is reached by its name, not by an id");
  return ctx.id.name;
}

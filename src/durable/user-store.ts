import { DurableObject } from "cloudflare:workers";
import { purgeValidation } from "../cache/validation-cache";
import { type Config, readConfig } from "../core/config";
import { parseShardName } from "../core/token-format";
import { parseUserStoreName, type UserStoreRoute } from "../core/user-store-routing";
import type { PasswordHash } from "../crypto/password";
import { migrate } from "./migrations";
import { shardStub } from "./names";
import { found, type RegistryResult } from "./registry/result";
import type { UserEpoch } from "./user-epoch";
import {
  type NewUser,
  UserAccounts,
  type UserCredential,
  type UserPage,
  type UserView,
} from "./users/accounts";
import { importLegacyUsers } from "./users/legacy-import";
import { type LoginGate, type LoginOutcome, LoginThrottle } from "./users/login-throttle";
import { USER_STORE_MIGRATIONS } from "./users/schema";
import { type SessionLifetime, SessionStore } from "./users/sessions";
import { TokenPlaces } from "./users/token-places";

/** A portal session to start with a successful log-in (README "Developer portal"). */
export interface NewSession {
  idHash: string;
  lifetime: SessionLifetime;
  /** The session the browser held before, when it lives in this store: ended in the same step. */
  replaces: string | null;
}

/**
 * One shard of the user store (README "Users: the user store"): the users whose names hash to it
 * (src/core/user-store-routing.ts), with everything that is only about them, so that a log-in touches this one
 * object and log-ins of different users spread over all of them: credentials (PBKDF2 hashes, verified in the
 * stateless Worker), password changes and deletions with their credential epochs, the log-in throttle
 * (per source and per user name), developer-portal sessions, and the token shards that hold a view of each
 * user's epoch. Named `users/<n>` (`users:<DOMAIN>/<n>` for a partitioned domain).
 */
export class UserStore extends DurableObject<Env> {
  private readonly accounts: UserAccounts;
  private readonly logins: LoginThrottle;
  private readonly sessions: SessionStore;
  private readonly places: TokenPlaces;
  private readonly config: Config;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, USER_STORE_MIGRATIONS);
    this.config = readConfig(env);
    this.accounts = new UserAccounts(ctx.storage.sql);
    this.logins = new LoginThrottle(ctx.storage.sql);
    this.sessions = new SessionStore(ctx.storage.sql);
    this.places = new TokenPlaces(ctx.storage.sql);
    const route = ownRoute(ctx);
    void ctx.blockConcurrencyWhile(() =>
      importLegacyUsers(env, ctx.storage, route, this.accounts, this.places),
    );
  }

  // ---- users (admin API) --------------------------------------------------------------------------------
  async createUser(user: NewUser): Promise<RegistryResult<UserView>> {
    return this.accounts.create(user);
  }
  async getUser(username: string): Promise<RegistryResult<UserView>> {
    return this.accounts.get(username);
  }
  async listUsers(page: UserPage): Promise<UserView[]> {
    return this.accounts.list(page);
  }
  /**
   * A new password ends every session of the old one: a new credential epoch (src/durable/user-epoch.ts), and
   * the user's tokens and portal sessions are revoked. Answers only once every token shard that holds a view of
   * the user has recorded the new epoch.
   */
  async setUserPassword(username: string, password: PasswordHash): Promise<RegistryResult<UserView>> {
    const updated = this.accounts.setPassword(username, password);
    if (!updated.ok) return updated;
    this.sessions.endAllOf(username);
    await this.endUserCredentials(username, updated.value.epoch);
    return found(updated.value.user);
  }
  async deleteUser(username: string): Promise<RegistryResult<{ username: string }>> {
    const deleted = this.accounts.delete(username);
    if (!deleted.ok) return deleted;
    this.sessions.endAllOf(username);
    await this.endUserCredentials(username, deleted.value.epoch);
    return found({ username });
  }

  // ---- credential epochs ---------------------------------------------------------------------------------
  /**
   * A token shard's first view of a user's epoch, asked before its first mint for the user. The shard is
   * recorded in the same step (src/durable/users/token-places.ts), so every later change reaches it.
   */
  async userEpoch(username: string, shardName: string): Promise<UserEpoch> {
    this.places.add(username, shardName);
    return this.accounts.epoch(username);
  }
  /** An existing user's canonical name and current epoch (a jwt-bearer or token-exchange subject); null if none. */
  async findUser(name: string): Promise<{ username: string; epoch: number } | null> {
    const credential = this.accounts.credential(name);
    return credential ? { username: credential.username, epoch: credential.epoch } : null;
  }

  /**
   * Tells every token shard that holds a view of the user the new epoch, and has each revoke the user's tokens,
   * in one step there; then publishes the revocation markers (if KV refuses them, the shards' purge outboxes
   * keep retrying: the change itself stands).
   */
  private async endUserCredentials(username: string, epoch: UserEpoch): Promise<void> {
    const routes = this.places.of(username).flatMap((name) => parseShardName(name) ?? []);
    const purged = await Promise.all(
      routes.map((route) => shardStub(this.env, route).endUserCredentials(username, epoch)),
    );
    try {
      await purgeValidation(this.env, this.config.gatewayCacheTtl, purged.flat());
    } catch (error) {
      console.error(
        "gateway purge deferred to the shards' outboxes:",
        error instanceof Error ? error.message : error,
      );
    }
  }

  // ---- log-ins (README "Lock-out and throttling") ------------------------------------------------------
  /**
   * A log-in attempt under `principal` (src/core/identity.ts loginPrincipal): admitted and counted in this one
   * step, or refused by the throttle, for any name alike; the user's stored hash (null for no such user) goes
   * with an admission.
   */
  async beginLogin(
    principal: string,
    source: string,
  ): Promise<{ gate: LoginGate; credential: UserCredential | null }> {
    const gate = this.logins.begin(principal, source, Date.now());
    return { gate, credential: gate.ok ? this.accounts.credential(principal) : null };
  }
  /**
   * How an admitted attempt ended. A successful portal sign-in starts its session in the same step (and ends the
   * browser's previous one, when it lives here), so that signing in costs two calls to this one object.
   */
  async finishLogin(
    principal: string,
    source: string,
    outcome: LoginOutcome,
    session: NewSession | null = null,
  ): Promise<void> {
    const now = Date.now();
    this.logins.finish(principal, source, outcome, now);
    if (outcome !== "success" || !session) return;
    if (session.replaces) this.sessions.end(session.replaces);
    const user = this.accounts.credential(principal);
    if (user) this.sessions.create(session.idHash, user.username, session.lifetime, now);
  }

  // ---- developer-portal sessions (README "Developer portal") -------------------------------------------
  /** The signed-in user of a session, or null when it is unknown, ended, expired or its user is gone. */
  async usePortalSession(idHash: string, lifetime: SessionLifetime): Promise<string | null> {
    const username = this.sessions.use(idHash, lifetime, Date.now());
    if (username !== null && !this.accounts.get(username).ok) {
      this.sessions.end(idHash);
      return null;
    }
    return username;
  }
  async endPortalSession(idHash: string): Promise<void> {
    this.sessions.end(idHash);
  }
}

/** This object's route, from its name (`ctx.id.name`: it is always reached by name). */
function ownRoute(ctx: DurableObjectState): UserStoreRoute {
  const route = ctx.id.name === undefined ? null : parseUserStoreName(ctx.id.name);
  if (!route)
    throw new Error(`a user store is reached by its name (users/<n>), not ${ctx.id.name ?? "an id"}`);
  return route;
}

import { DurableObject } from "cloudflare:workers";
import type { KeyFacts, RouteTable, TierTable } from "../cache/facts";
import { GatewayPublisher } from "../cache/publisher";
import { purgeValidation } from "../cache/validation-cache";
import { kvKeys } from "../core/cache-keys";
import type { ClientRecord, KeyType } from "../core/client-record";
import { type Config, readConfig } from "../core/config";
import { UNLIMITED } from "../core/tiers";
import type { TokenRoute } from "../core/token-format";
import { sameUserStore, type UserStoreRoute, userStoreRoute } from "../core/user-store-routing";
import { randomSecret } from "../crypto/secrets";
import { migrate } from "./migrations";
import { shardStub } from "./names";
import { type ApiInput, ApiStore, type ApiView, type SubscriptionView } from "./registry/apis";
import { type ApplicationInput, ApplicationStore, type ApplicationView } from "./registry/applications";
import { type Handover, LegacyUsers } from "./registry/legacy-users";
import { found, notFound, type RegistryResult } from "./registry/result";
import { REGISTRY_MIGRATIONS } from "./registry/schema";
import { type TierChanges, type TierInput, TierStore, type TierView } from "./registry/tiers";
import {
  type TrustedIssuerInput,
  TrustedIssuerStore,
  type TrustedIssuerView,
} from "./registry/trusted-issuers";

/** Routing facts of a consumer key, cached in KV and in each isolate. */
export interface ClientRouting {
  shards: number;
  applicationId: string;
  keyType: KeyType;
}

type Revocation = "none" | "all" | "application";

/** Storage key of the browser-form signing secret. */
const FORM_SIGNING_SECRET = "form-signing-secret";

/**
 * The directory: applications and their keys, APIs, subscriptions, tiers and trusted issuers. It is not on the
 * token hot path: token shards keep a copy of their key's record, which the registry pushes on every change.
 * Users live in the user store (src/durable/user-store.ts); the registry only hands over those it kept before.
 */
export class Registry extends DurableObject<Env> {
  private readonly legacyUsers: LegacyUsers;
  private readonly applications: ApplicationStore;
  private readonly apis: ApiStore;
  private readonly trustedIssuers: TrustedIssuerStore;
  private readonly tiers: TierStore;
  /** Writes the gateway's routing table and consumer-key facts to KV (src/cache/publisher.ts). */
  private readonly gateway: GatewayPublisher;
  private readonly config: Config;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, REGISTRY_MIGRATIONS);
    this.config = readConfig(env);
    this.applications = new ApplicationStore(ctx.storage.sql);
    this.legacyUsers = new LegacyUsers(ctx.storage.sql, this.applications);
    this.apis = new ApiStore(ctx.storage.sql);
    this.trustedIssuers = new TrustedIssuerStore(ctx.storage.sql);
    this.tiers = new TierStore(ctx.storage.sql);
    this.gateway = new GatewayPublisher(env, this.config.gatewayCacheTtl, {
      apis: () => this.apis.listApis(),
      key: (consumerKey) => {
        const record = this.applications.clientRecord(consumerKey);
        if (!record) return null;
        return {
          record,
          subscriptions: this.apis.listSubscriptions({ applicationId: record.applicationId }),
          tier: this.applications.tierOf(consumerKey) ?? UNLIMITED,
        };
      },
      tiers: () => this.tiers.list(),
    });
  }

  // ---- users from before the user store (src/durable/registry/legacy-users.ts) ---------------------------
  /** The users the registry still holds whose names route to this user store, for it to take over. */
  async handOverUsers(route: UserStoreRoute): Promise<Handover> {
    return this.legacyUsers.handOver(this.routesTo(route));
  }
  /** Deletes the users a user store has taken over. */
  async forgetHandedOverUsers(route: UserStoreRoute): Promise<void> {
    this.legacyUsers.forget(this.routesTo(route));
  }
  private routesTo(route: UserStoreRoute): (username: string) => boolean {
    return (username) => sameUserStore(userStoreRoute(username, this.config.partitions), route);
  }

  /**
   * Publishes the revocation markers of tokens the shards ended. If KV refuses them, the shards' purge outboxes
   * (src/durable/shard/purge-outbox.ts) keep retrying: the admin change itself stands.
   */
  private async purgeGateway(purge: string[]): Promise<void> {
    try {
      await purgeValidation(this.env, this.config.gatewayCacheTtl, purge);
    } catch (error) {
      console.error(
        "gateway purge deferred to the shards' outboxes:",
        error instanceof Error ? error.message : error,
      );
    }
  }

  // ---- browser forms ------------------------------------------------------------------------------------
  /**
   * A random secret generated on first use and kept: the key material the login and consent pages derive
   * their CSRF-protection HMAC key from (src/oauth/authorize/form-signing.ts). No configuration needed.
   */
  async formSigningSecret(): Promise<string> {
    const existing = this.ctx.storage.kv.get<string>(FORM_SIGNING_SECRET);
    if (existing) return existing;
    const secret = randomSecret(32);
    this.ctx.storage.kv.put(FORM_SIGNING_SECRET, secret);
    return secret;
  }

  // ---- applications and keys ----------------------------------------------------------------------------
  /** A new application; `keyTypes` are the keys generated with it (all of them unless said). */
  async createApplication(
    input: ApplicationInput,
    keyTypes?: readonly KeyType[],
  ): Promise<RegistryResult<ApplicationView>> {
    const tier = this.tiers.resolve(input.tier);
    if (!tier.ok) return tier;
    const created = await this.applications.create({ ...input, tier: tier.value }, keyTypes);
    if (created.ok) {
      for (const key of Object.values(created.value.keys)) await this.publishRouting(key.consumerKey);
    }
    return created;
  }
  /** Generates an application's key of one type later (WSO2 Store "Generate keys"). */
  async generateKey(
    id: string,
    keyType: KeyType,
  ): Promise<RegistryResult<{ consumerKey: string; consumerSecret: string }>> {
    const added = await this.applications.addKey(id, keyType);
    if (added.ok) {
      await this.publishRouting(added.value.consumerKey);
      await this.gateway.republishKeys([added.value.consumerKey]);
    }
    return added;
  }
  async getApplication(id: string): Promise<RegistryResult<ApplicationView>> {
    return this.applications.get(id);
  }
  async listApplications(owner: string | null): Promise<ApplicationView[]> {
    return this.applications.list(owner);
  }
  async updateApplication(
    id: string,
    changes: Partial<Omit<ApplicationInput, "owner" | "shards">>,
  ): Promise<RegistryResult<ApplicationView>> {
    if (!this.applications.exists(id)) return notFound(`no application ${id}`);
    if (changes.tier !== undefined) {
      const tier = this.tiers.resolve(changes.tier);
      if (!tier.ok) return tier;
      changes = { ...changes, tier: tier.value };
    }
    const updated = this.applications.update(id, changes);
    if (updated.ok) await this.pushKeys(this.applications.consumerKeys(id), "none");
    if (updated.ok) await this.gateway.republishKeys(this.applications.consumerKeys(id));
    return updated;
  }
  async deleteApplication(id: string): Promise<RegistryResult<{ id: string }>> {
    const consumerKeys = this.applications.consumerKeys(id);
    if (!this.applications.exists(id)) return notFound(`no application ${id}`);
    const places = consumerKeys.flatMap((key) => this.applications.placesOf(key));
    const deleted = this.ctx.storage.transactionSync(() => {
      this.apis.deleteSubscriptionsOf(id);
      return this.applications.delete(id);
    });
    if (!deleted.ok) return deleted;
    const purge: string[] = [];
    for (const place of places) purge.push(...(await shardStub(this.env, place).syncClient(null, "all")));
    for (const key of consumerKeys) await this.env.VALIDATION_CACHE.delete(kvKeys.client(key));
    await this.purgeGateway(purge);
    await this.gateway.republishKeys(consumerKeys);
    return found({ id });
  }

  /** New consumer secret; every token issued under the old one is revoked. */
  async regenerateSecret(
    id: string,
    keyType: KeyType,
  ): Promise<RegistryResult<{ consumerKey: string; consumerSecret: string }>> {
    const regenerated = await this.applications.regenerateSecret(id, keyType);
    if (regenerated.ok) await this.pushKeys([regenerated.value.consumerKey], "all");
    return regenerated;
  }

  /** Revokes a key's application (client_credentials) tokens before a new one is issued. */
  async revokeApplicationTokens(
    id: string,
    keyType: KeyType,
  ): Promise<RegistryResult<{ consumerKey: string }>> {
    const consumerKey = this.applications.consumerKey(id, keyType);
    if (!consumerKey) return notFound(`no ${keyType} key for application ${id}`);
    await this.pushKeys([consumerKey], "application");
    return found({ consumerKey });
  }

  /** Called by a token shard that has no copy of its key's record yet. */
  async getClientRecord(route: TokenRoute): Promise<ClientRecord | null> {
    const record = this.applications.clientRecord(route.consumerKey);
    if (record) this.applications.markShard(route.consumerKey, route.shard, route.partition);
    return record;
  }

  async getClientRouting(consumerKey: string): Promise<ClientRouting | null> {
    const record = this.applications.clientRecord(consumerKey);
    return record
      ? { shards: record.shards, applicationId: record.applicationId, keyType: record.keyType }
      : null;
  }

  private async publishRouting(consumerKey: string): Promise<void> {
    const routing = await this.getClientRouting(consumerKey);
    if (routing) await this.env.VALIDATION_CACHE.put(kvKeys.client(consumerKey), JSON.stringify(routing));
  }

  /** Pushes the current record of each key to every shard holding a copy, revoking as asked. */
  private async pushKeys(consumerKeys: string[], revoke: Revocation): Promise<void> {
    const purge: string[] = [];
    for (const consumerKey of consumerKeys) {
      const record = this.applications.clientRecord(consumerKey);
      const results = await Promise.all(
        this.applications
          .placesOf(consumerKey)
          .map((place) => shardStub(this.env, place).syncClient(record, revoke)),
      );
      for (const hashes of results) purge.push(...hashes);
    }
    await this.purgeGateway(purge);
  }

  // ---- APIs and subscriptions ---------------------------------------------------------------------------
  async createApi(input: ApiInput): Promise<RegistryResult<ApiView>> {
    const created = this.apis.createApi(input);
    if (created.ok) await this.gateway.republishRoutes();
    return created;
  }
  async getApi(id: string): Promise<RegistryResult<ApiView>> {
    return this.apis.getApi(id);
  }
  async listApis(): Promise<ApiView[]> {
    return this.apis.listApis();
  }
  async updateApi(id: string, changes: Partial<ApiInput>): Promise<RegistryResult<ApiView>> {
    const updated = this.apis.updateApi(id, changes);
    if (updated.ok) await this.gateway.republishRoutes();
    return updated;
  }
  async deleteApi(id: string): Promise<RegistryResult<{ subscriptions: SubscriptionView[] }>> {
    const deleted = this.apis.deleteApi(id);
    if (deleted.ok) {
      await this.gateway.republishRoutes();
      await this.republishApplications(deleted.value.subscriptions.map((s) => s.applicationId));
    }
    return deleted;
  }
  async createSubscription(
    applicationId: string,
    apiId: string,
    tier: string,
  ): Promise<RegistryResult<SubscriptionView>> {
    const resolved = this.tiers.resolve(tier);
    if (!resolved.ok) return resolved;
    if (!this.applications.exists(applicationId)) return notFound(`no application ${applicationId}`);
    const created = this.apis.createSubscription(applicationId, apiId, resolved.value);
    if (created.ok) await this.republishApplications([applicationId]);
    return created;
  }
  async getSubscription(id: string): Promise<RegistryResult<SubscriptionView>> {
    return this.apis.getSubscription(id);
  }
  async listSubscriptions(filter: { applicationId?: string; apiId?: string }): Promise<SubscriptionView[]> {
    return this.apis.listSubscriptions(filter);
  }
  async updateSubscription(id: string, tier: string): Promise<RegistryResult<SubscriptionView>> {
    const existing = this.apis.getSubscription(id);
    if (!existing.ok) return existing;
    const resolved = this.tiers.resolve(tier);
    if (!resolved.ok) return resolved;
    const updated = this.apis.updateSubscription(id, resolved.value);
    if (updated.ok) await this.republishApplications([updated.value.applicationId]);
    return updated;
  }
  async deleteSubscription(id: string): Promise<RegistryResult<SubscriptionView>> {
    const deleted = this.apis.deleteSubscription(id);
    if (deleted.ok) await this.republishApplications([deleted.value.applicationId]);
    return deleted;
  }

  // ---- throttling tiers (README "Throttling") -----------------------------------------------------------
  async listTiers(): Promise<TierView[]> {
    return this.tiers.list();
  }
  async getTier(name: string): Promise<RegistryResult<TierView>> {
    return this.tiers.get(name);
  }
  async createTier(input: TierInput): Promise<RegistryResult<TierView>> {
    const created = this.tiers.create(input);
    if (created.ok) await this.gateway.republishTiers();
    return created;
  }
  async updateTier(name: string, changes: TierChanges): Promise<RegistryResult<TierView>> {
    const updated = this.tiers.update(name, changes);
    if (updated.ok) await this.gateway.republishTiers();
    return updated;
  }
  /** Deletes a tier no subscription or application names (409 otherwise). */
  async deleteTier(name: string): Promise<RegistryResult<TierView>> {
    const tier = this.tiers.get(name);
    if (!tier.ok) return tier;
    const deleted = this.tiers.delete(name, {
      subscriptions: this.apis.countWithTier(tier.value.name),
      applications: this.applications.countWithTier(tier.value.name),
    });
    if (deleted.ok) await this.gateway.republishTiers();
    return deleted;
  }

  // ---- trusted issuers and the jwt-bearer grant (RFC 7523) -----------------------------------------------
  async createTrustedIssuer(input: TrustedIssuerInput): Promise<RegistryResult<TrustedIssuerView>> {
    return this.trustedIssuers.create(input);
  }
  async getTrustedIssuer(id: string): Promise<RegistryResult<TrustedIssuerView>> {
    return this.trustedIssuers.get(id);
  }
  async findTrustedIssuer(issuer: string): Promise<TrustedIssuerView | null> {
    return this.trustedIssuers.byIssuer(issuer);
  }
  async listTrustedIssuers(): Promise<TrustedIssuerView[]> {
    return this.trustedIssuers.list();
  }
  async deleteTrustedIssuer(id: string): Promise<RegistryResult<{ id: string }>> {
    return this.trustedIssuers.delete(id);
  }

  /**
   * The last step of a verified jwt-bearer assertion whose `sub` the user store knows, in one step of this
   * object: the issuer is still trusted and the `jti` was not used before, which is then recorded until the
   * assertion expires. Nothing is recorded when a check fails.
   */
  async acceptAssertion(assertion: {
    issuerId: string;
    jtiHash: string;
    expiresAt: number;
  }): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (!this.trustedIssuers.get(assertion.issuerId).ok)
      return { ok: false, reason: "the issuer is not trusted" };
    const use = this.trustedIssuers.useAssertion(
      assertion.issuerId,
      assertion.jtiHash,
      assertion.expiresAt,
      Date.now(),
    );
    if (use === "replayed") return { ok: false, reason: "the assertion was used before (jti)" };
    return { ok: true };
  }

  // ---- gateway cache (src/cache/publisher.ts) -----------------------------------------------------------
  /** The routing table, for a gateway whose cache missed. */
  async gatewayRoutes(): Promise<RouteTable> {
    return this.gateway.routes();
  }
  /** A consumer key's application, allowed domains and subscriptions, for a gateway whose cache missed. */
  async gatewayKey(consumerKey: string): Promise<KeyFacts | null> {
    return this.gateway.key(consumerKey);
  }
  /** Every tier's limits, for a gateway whose cache missed. */
  async gatewayTiers(): Promise<TierTable> {
    return this.gateway.tiers();
  }
  private async republishApplications(applicationIds: readonly string[]): Promise<void> {
    const ids = [...new Set(applicationIds)];
    await this.gateway.republishKeys(ids.flatMap((id) => this.applications.consumerKeys(id)));
  }
}

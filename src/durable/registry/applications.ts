import { type AccessTokenFormat, type ClientRecord, KEY_TYPES, type KeyType } from "../../core/client-record";
import { tenantOf } from "../../core/identity";
import type { TokenRoute } from "../../core/token-format";
import { hashSecret, randomSecret } from "../../crypto/secrets";
import { conflict, found, notFound, type RegistryResult } from "./result";
import type { SqlRow } from "./schema";

/** Token shards per consumer key unless the application asks otherwise (see BENCHMARKS.md for the sizing). */
export const DEFAULT_SHARDS = 16;

export interface ApplicationInput {
  name: string;
  owner: string;
  accessTokenValidity: number | null;
  accessTokenFormat: AccessTokenFormat;
  allowedDomains: string[];
  callbackUrls: string[];
  implicitEnabled: boolean;
  shards: number;
  /** Application-level throttling tier (README "Throttling"); the stored spelling of an existing tier. */
  tier: string;
}

export interface KeyView {
  consumerKey: string;
  consumerSecret?: string;
}

export interface ApplicationView {
  id: string;
  name: string;
  owner: string;
  accessTokenValidity: number | null;
  accessTokenFormat: AccessTokenFormat;
  allowedDomains: string[];
  callbackUrl: string | null;
  callbackUrls: string[];
  implicitEnabled: boolean;
  shards: number;
  tier: string;
  createdAt: string;
  /** The keys generated so far: both for an application made through the admin API, none at first in the portal. */
  keys: Partial<Record<KeyType, KeyView>>;
}

interface ApplicationRow {
  id: string;
  name: string;
  owner: string;
  tenant: string;
  access_token_validity: number | null;
  access_token_format: AccessTokenFormat;
  allowed_domains: string;
  callback_urls: string;
  implicit_enabled: number;
  shards: number;
  tier: string;
  created_at: number;
}

interface KeyRow {
  consumer_key: string;
  application_id: string;
  key_type: KeyType;
  secret_hash: string;
}

/** Applications and their PRODUCTION / SANDBOX key pairs. Secrets are returned once and stored as SHA-256. */
export class ApplicationStore {
  constructor(private readonly sql: SqlStorage) {}

  private appRow(id: string): ApplicationRow | null {
    const rows = this.sql.exec<SqlRow>("SELECT * FROM applications WHERE id = ?", id).toArray();
    return (rows[0] as unknown as ApplicationRow | undefined) ?? null;
  }

  private keyRows(applicationId: string): KeyRow[] {
    return this.sql
      .exec<SqlRow>("SELECT * FROM app_keys WHERE application_id = ?", applicationId)
      .toArray() as unknown as KeyRow[];
  }

  private keyRow(consumerKey: string): KeyRow | null {
    const rows = this.sql
      .exec<SqlRow>("SELECT * FROM app_keys WHERE consumer_key = ?", consumerKey)
      .toArray();
    return (rows[0] as unknown as KeyRow | undefined) ?? null;
  }

  private view(row: ApplicationRow, secrets: Partial<Record<KeyType, string>> = {}): ApplicationView {
    const keys: Partial<Record<KeyType, KeyView>> = {};
    for (const key of this.keyRows(row.id)) {
      const secret = secrets[key.key_type];
      keys[key.key_type] = secret
        ? { consumerKey: key.consumer_key, consumerSecret: secret }
        : { consumerKey: key.consumer_key };
    }
    const callbackUrls = JSON.parse(row.callback_urls) as string[];
    return {
      id: row.id,
      name: row.name,
      owner: row.owner,
      accessTokenValidity: row.access_token_validity,
      accessTokenFormat: row.access_token_format,
      allowedDomains: JSON.parse(row.allowed_domains) as string[],
      callbackUrl: callbackUrls[0] ?? null,
      callbackUrls,
      implicitEnabled: row.implicit_enabled === 1,
      shards: row.shards,
      tier: row.tier,
      createdAt: new Date(row.created_at).toISOString(),
      keys,
    };
  }

  /** A new application with keys of `keyTypes` (their secrets are in the answer, and only there). */
  async create(
    input: ApplicationInput,
    keyTypes: readonly KeyType[] = KEY_TYPES,
  ): Promise<RegistryResult<ApplicationView>> {
    const id = crypto.randomUUID();
    const secrets: Partial<Record<KeyType, string>> = {};
    const keys: Array<{ keyType: KeyType; consumerKey: string; secretHash: string }> = [];
    for (const keyType of keyTypes) {
      const secret = randomSecret(32);
      secrets[keyType] = secret;
      keys.push({ keyType, consumerKey: randomSecret(21), secretHash: await hashSecret(secret) });
    }
    const existing = this.sql
      .exec("SELECT id FROM applications WHERE owner = ? AND name = ?", input.owner, input.name)
      .toArray();
    if (existing.length > 0) return conflict(`${input.owner} already has an application named ${input.name}`);
    const now = Date.now();
    this.sql.exec(
      `INSERT INTO applications (id, name, owner, tenant, access_token_validity, access_token_format,
         allowed_domains, callback_urls, implicit_enabled, shards, tier, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      input.name,
      input.owner,
      tenantOf(input.owner),
      input.accessTokenValidity,
      input.accessTokenFormat,
      JSON.stringify(input.allowedDomains),
      JSON.stringify(input.callbackUrls),
      input.implicitEnabled ? 1 : 0,
      input.shards,
      input.tier,
      now,
    );
    for (const key of keys) {
      this.sql.exec(
        "INSERT INTO app_keys (consumer_key, application_id, key_type, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        key.consumerKey,
        id,
        key.keyType,
        key.secretHash,
        now,
      );
    }
    return found(this.view(this.appRow(id) as ApplicationRow, secrets));
  }

  get(id: string): RegistryResult<ApplicationView> {
    const row = this.appRow(id);
    return row ? found(this.view(row)) : notFound(`no application ${id}`);
  }

  list(owner: string | null): ApplicationView[] {
    const rows = (owner
      ? this.sql.exec<SqlRow>("SELECT * FROM applications WHERE owner = ? ORDER BY created_at", owner)
      : this.sql.exec<SqlRow>("SELECT * FROM applications ORDER BY created_at")
    ).toArray() as unknown as ApplicationRow[];
    return rows.map((row) => this.view(row));
  }

  update(
    id: string,
    changes: Partial<Omit<ApplicationInput, "owner" | "shards">>,
  ): RegistryResult<ApplicationView> {
    const row = this.appRow(id);
    if (!row) return notFound(`no application ${id}`);
    if (changes.name !== undefined && changes.name !== row.name) {
      const clash = this.sql
        .exec(
          "SELECT id FROM applications WHERE owner = ? AND name = ? AND id != ?",
          row.owner,
          changes.name,
          id,
        )
        .toArray();
      if (clash.length > 0) return conflict(`${row.owner} already has an application named ${changes.name}`);
    }
    this.sql.exec(
      `UPDATE applications SET name = ?, access_token_validity = ?, access_token_format = ?, allowed_domains = ?,
         callback_urls = ?, implicit_enabled = ?, tier = ? WHERE id = ?`,
      changes.name ?? row.name,
      changes.accessTokenValidity !== undefined ? changes.accessTokenValidity : row.access_token_validity,
      changes.accessTokenFormat ?? row.access_token_format,
      changes.allowedDomains ? JSON.stringify(changes.allowedDomains) : row.allowed_domains,
      changes.callbackUrls ? JSON.stringify(changes.callbackUrls) : row.callback_urls,
      changes.implicitEnabled !== undefined ? (changes.implicitEnabled ? 1 : 0) : row.implicit_enabled,
      changes.tier ?? row.tier,
      id,
    );
    return found(this.view(this.appRow(id) as ApplicationRow));
  }

  delete(id: string): RegistryResult<{ consumerKeys: string[] }> {
    const row = this.appRow(id);
    if (!row) return notFound(`no application ${id}`);
    const consumerKeys = this.keyRows(id).map((key) => key.consumer_key);
    // Children first: foreign-key enforcement is not relied on. Subscriptions are ApiStore's: the registry
    // removes them before calling this.
    for (const consumerKey of consumerKeys) {
      this.sql.exec("DELETE FROM key_shards WHERE consumer_key = ?", consumerKey);
      this.sql.exec("DELETE FROM key_partition_shards WHERE consumer_key = ?", consumerKey);
    }
    this.sql.exec("DELETE FROM app_keys WHERE application_id = ?", id);
    this.sql.exec("DELETE FROM applications WHERE id = ?", id);
    return found({ consumerKeys });
  }

  /** Generates an application's key of one type (WSO2 Store "Generate keys"); the secret is returned once. */
  async addKey(
    id: string,
    keyType: KeyType,
  ): Promise<RegistryResult<{ consumerKey: string; consumerSecret: string }>> {
    if (!this.appRow(id)) return notFound(`no application ${id}`);
    if (this.consumerKey(id, keyType))
      return conflict(`the ${keyType} keys of application ${id} exist already`);
    const secret = randomSecret(32);
    const consumerKey = randomSecret(21);
    this.sql.exec(
      "INSERT INTO app_keys (consumer_key, application_id, key_type, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
      consumerKey,
      id,
      keyType,
      await hashSecret(secret),
      Date.now(),
    );
    return found({ consumerKey, consumerSecret: secret });
  }

  /** Replaces a key's secret; the new secret is returned once. */
  async regenerateSecret(
    id: string,
    keyType: KeyType,
  ): Promise<RegistryResult<{ consumerKey: string; consumerSecret: string }>> {
    const key = this.keyRows(id).find((candidate) => candidate.key_type === keyType);
    if (!key) return notFound(`no ${keyType} key for application ${id}`);
    const secret = randomSecret(32);
    this.sql.exec(
      "UPDATE app_keys SET secret_hash = ? WHERE consumer_key = ?",
      await hashSecret(secret),
      key.consumer_key,
    );
    return found({ consumerKey: key.consumer_key, consumerSecret: secret });
  }

  consumerKey(id: string, keyType: KeyType): string | null {
    return this.keyRows(id).find((key) => key.key_type === keyType)?.consumer_key ?? null;
  }

  allConsumerKeys(): string[] {
    return this.sql
      .exec<{ consumer_key: string }>("SELECT consumer_key FROM app_keys")
      .toArray()
      .map((row) => row.consumer_key);
  }

  consumerKeys(id: string): string[] {
    return this.keyRows(id).map((key) => key.consumer_key);
  }

  /** What a token shard needs to know about a consumer key. */
  clientRecord(consumerKey: string): ClientRecord | null {
    const key = this.keyRow(consumerKey);
    const app = key ? this.appRow(key.application_id) : null;
    if (!key || !app) return null;
    return {
      consumerKey: key.consumer_key,
      keyType: key.key_type,
      secretHash: key.secret_hash,
      applicationId: app.id,
      applicationName: app.name,
      owner: app.owner,
      tenant: app.tenant,
      accessTokenValidity: app.access_token_validity,
      accessTokenFormat: app.access_token_format,
      allowedDomains: JSON.parse(app.allowed_domains) as string[],
      callbackUrls: JSON.parse(app.callback_urls) as string[],
      implicitEnabled: app.implicit_enabled === 1,
      shards: app.shards,
    };
  }

  /** Remembers that a shard holds a copy of the key's record, so changes are pushed to it. */
  markShard(consumerKey: string, shard: number, partition?: string): void {
    if (partition === undefined) {
      this.sql.exec(
        "INSERT OR IGNORE INTO key_shards (consumer_key, shard) VALUES (?, ?)",
        consumerKey,
        shard,
      );
      return;
    }
    this.sql.exec(
      "INSERT OR IGNORE INTO key_partition_shards (consumer_key, partition, shard) VALUES (?, ?, ?)",
      consumerKey,
      partition,
      shard,
    );
  }

  /** Every shard that holds a copy of the key's record: the shared ones, then those of user-store partitions. */
  placesOf(consumerKey: string): TokenRoute[] {
    const partitioned = this.sql
      .exec<{ partition: string; shard: number }>(
        "SELECT partition, shard FROM key_partition_shards WHERE consumer_key = ? ORDER BY partition, shard",
        consumerKey,
      )
      .toArray()
      .map((row) => ({ consumerKey, shard: row.shard, partition: row.partition }));
    return [...this.shardsOf(consumerKey).map((shard) => ({ consumerKey, shard })), ...partitioned];
  }

  shardsOf(consumerKey: string): number[] {
    return this.sql
      .exec<{ shard: number }>(
        "SELECT shard FROM key_shards WHERE consumer_key = ? ORDER BY shard",
        consumerKey,
      )
      .toArray()
      .map((row) => row.shard);
  }

  /** The application-level tier of the application a consumer key belongs to (null: no such key). */
  tierOf(consumerKey: string): string | null {
    const rows = this.sql
      .exec<{ tier: string }>(
        "SELECT a.tier FROM app_keys k JOIN applications a ON a.id = k.application_id WHERE k.consumer_key = ?",
        consumerKey,
      )
      .toArray();
    return rows[0]?.tier ?? null;
  }

  /** How many applications have the given tier. */
  countWithTier(tier: string): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM applications WHERE tier = ?", tier).one()
      .n;
  }

  exists(id: string): boolean {
    return this.appRow(id) !== null;
  }
}

import { DEFAULT_TIERS, UNLIMITED } from "../../core/tiers";
import type { Migration } from "../migrations";
import { LOGIN_THROTTLE_SCHEMA } from "../users/login-throttle";
import { PORTAL_SESSIONS_SCHEMA } from "../users/schema";

const REGISTRY_SCHEMA_1 = `
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  user_store_domain TEXT NOT NULL,
  password TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  window_start INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS applications (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  tenant TEXT NOT NULL,
  access_token_validity INTEGER,
  allowed_domains TEXT NOT NULL,
  callback_urls TEXT NOT NULL,
  implicit_enabled INTEGER NOT NULL DEFAULT 1,
  shards INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (owner, name)
);
CREATE TABLE IF NOT EXISTS app_keys (
  consumer_key TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  key_type TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (application_id, key_type)
);
CREATE TABLE IF NOT EXISTS key_shards (
  consumer_key TEXT NOT NULL REFERENCES app_keys (consumer_key) ON DELETE CASCADE,
  shard INTEGER NOT NULL,
  PRIMARY KEY (consumer_key, shard)
);
CREATE TABLE IF NOT EXISTS apis (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  context TEXT NOT NULL,
  version TEXT NOT NULL,
  production_endpoint TEXT NOT NULL,
  sandbox_endpoint TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (context, version)
);
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  api_id TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
  tier TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (application_id, api_id)
);
`;

/** Issuers the jwt-bearer grant trusts, and the assertions (by `jti` hash) it has accepted until they expire. */
const TRUSTED_ISSUERS = `
CREATE TABLE IF NOT EXISTS trusted_issuers (
  id TEXT PRIMARY KEY,
  issuer TEXT NOT NULL UNIQUE,
  jwks_uri TEXT,
  jwks TEXT,
  audience TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS used_assertions (
  issuer_id TEXT NOT NULL,
  jti_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (issuer_id, jti_hash)
);
CREATE INDEX IF NOT EXISTS used_assertions_expiry ON used_assertions (expires_at);
`;

/** Throttling tiers (README "Throttling"): name unique regardless of case; request_count and unit_time are NULL only
 *  for Unlimited. */
const TIERS = `
CREATE TABLE IF NOT EXISTS tiers (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  request_count INTEGER,
  unit_time INTEGER,
  stop_on_quota_reach INTEGER NOT NULL DEFAULT 1,
  description TEXT,
  created_at INTEGER NOT NULL
);
`;

/** A partition's shards that hold a copy of a key's record, so that changes of the key are pushed to them. */
const KEY_PARTITION_SHARDS = `
CREATE TABLE IF NOT EXISTS key_partition_shards (
  consumer_key TEXT NOT NULL,
  partition TEXT NOT NULL,
  shard INTEGER NOT NULL,
  PRIMARY KEY (consumer_key, partition, shard)
);
`;

/**
 * The registry's SQLite schema, as numbered migrations (src/durable/migrations.ts): every table and column of
 * it is spelled here. Released entries are never edited; a change is a new entry at the end.
 */
export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  // 1: the schema as it stood before numbered migrations.
  (sql) => sql.exec(REGISTRY_SCHEMA_1),
  // 2: an application's access-token format (opaque or RFC 9068 JWT). A database that was at version 0 may
  //    have it already: it was added on start before migrations were numbered.
  (sql) => {
    const columns = sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info('applications')")
      .toArray();
    if (!columns.some((column) => column.name === "access_token_format")) {
      sql.exec("ALTER TABLE applications ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque'");
    }
  },
  // 3: trusted issuers of the jwt-bearer grant (RFC 7523) and its used assertions.
  (sql) => sql.exec(TRUSTED_ISSUERS),
  // 4: an API's own CORS origins (null: the gateway's CORS_ALLOWED_ORIGINS).
  (sql) => sql.exec("ALTER TABLE apis ADD COLUMN cors_origins TEXT"),
  // 5: throttling tiers with WSO2 API Manager 1.10's defaults, and an application's tier. Subscription tiers were
  //    free labels before (nothing enforced them): a label naming a tier takes its spelling, any other becomes
  //    Unlimited, so that every tier named exists and nothing that passed before is refused now.
  (sql) => {
    sql.exec(TIERS);
    for (const tier of DEFAULT_TIERS) {
      sql.exec(
        `INSERT OR IGNORE INTO tiers (name, request_count, unit_time, stop_on_quota_reach, description, created_at)
         VALUES (?, ?, ?, ?, ?, 0)`,
        tier.name,
        tier.requestCount,
        tier.unitTime,
        tier.stopOnQuotaReach ? 1 : 0,
        tier.description,
      );
    }
    sql.exec(
      `UPDATE subscriptions SET tier = COALESCE(
         (SELECT name FROM tiers WHERE tiers.name = subscriptions.tier COLLATE NOCASE), ?)`,
      UNLIMITED,
    );
    sql.exec(`ALTER TABLE applications ADD COLUMN tier TEXT NOT NULL DEFAULT '${UNLIMITED}'`);
  },
  // 6: credential epochs (src/durable/user-epoch.ts): a user's current epoch, and the counter epochs come from.
  //    Users that exist keep epoch 0 until their next change.
  (sql) => {
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('users')").toArray();
    if (!columns.some((column) => column.name === "epoch")) {
      sql.exec("ALTER TABLE users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0");
    }
    sql.exec(`
      CREATE TABLE IF NOT EXISTS user_epoch_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
      INSERT OR IGNORE INTO user_epoch_counter (id, value) VALUES (1, 0);
    `);
  },
  // 7: log-in throttling per source and pace per user name (then src/durable/registry/login-throttle.ts). The
  //    users table's failures / window_start / locked_until columns are no longer used.
  (sql) => sql.exec(LOGIN_THROTTLE_SCHEMA),
  // 8: developer-portal sessions (README "Developer portal"), by the SHA-256 of the browser's session id.
  (sql) => sql.exec(PORTAL_SESSIONS_SCHEMA),
  // 9: the shards of user-store partitions (README "Users: the user store") that hold a copy of a key's record.
  (sql) => sql.exec(KEY_PARTITION_SHARDS),
];

export type SqlRow = Record<string, SqlStorageValue>;

/** The registry's SQLite schema: every table and column of it is spelled here. */
export const REGISTRY_SCHEMA = `
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
  access_token_format TEXT NOT NULL DEFAULT 'opaque',
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

export type SqlRow = Record<string, SqlStorageValue>;

/** Columns added after a table was first created: added to an existing database on start (SQLite ALTER TABLE). */
const ADDED_COLUMNS: ReadonlyArray<{ table: string; column: string; definition: string }> = [
  { table: "applications", column: "access_token_format", definition: "TEXT NOT NULL DEFAULT 'opaque'" },
];

/** Creates the schema, and brings a database created by an earlier version up to it. */
export function migrateRegistry(sql: SqlStorage): void {
  sql.exec(REGISTRY_SCHEMA);
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray();
    if (!columns.some((row) => row.name === column)) {
      sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
  }
}

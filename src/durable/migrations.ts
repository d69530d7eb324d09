/**
 * Numbered schema migrations, shared by both Durable Object classes. Migration `n` (1-based) runs once per
 * database, in one transaction with the recording of `n`, so a crash never leaves it half applied. A new
 * schema change is a new function at the end of the list; a released one is never edited.
 *
 * The version is kept in a one-row table: Durable Objects' SQLite refuses `PRAGMA user_version`
 * (SQLITE_AUTH).
 */
export type Migration = (sql: SqlStorage) => void;

const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
)`;

export function schemaVersion(sql: SqlStorage): number {
  sql.exec(VERSION_TABLE);
  const rows = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray();
  return rows[0]?.version ?? 0;
}

/** Brings the database up to `migrations.length`; returns the version it was at. */
export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[]): number {
  const from = storage.transactionSync(() => schemaVersion(storage.sql));
  for (let version = from; version < migrations.length; version++) {
    storage.transactionSync(() => {
      (migrations[version] as Migration)(storage.sql);
      storage.sql.exec(
        "INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
        version + 1,
      );
    });
  }
  return from;
}

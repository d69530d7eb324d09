import type { Migration } from "../migrations";

/**
 * The token shard's schema, as numbered migrations (src/durable/migrations.ts). Released entries are never
 * edited; a change is a new entry at the end.
 */
export const SHARD_MIGRATIONS: readonly Migration[] = [
  // 1: the schema as it stood before numbered migrations. A store created before `gateway_seen` existed
  //    gets the column; one created before the (family, state, spent_at) index loses the older index.
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS client (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        record TEXT NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        window_start INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS tokens (
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        family TEXT NOT NULL,
        grant_type TEXT NOT NULL,
        user TEXT,
        scope TEXT NOT NULL,
        granted_scope TEXT NOT NULL,
        key_type TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER,
        sibling_hash TEXT,
        sibling_sealed TEXT,
        spent_at INTEGER,
        successor_hash TEXT,
        successor_sealed TEXT,
        revoked_at INTEGER,
        purge_after INTEGER,
        extra TEXT,
        gateway_seen INTEGER NOT NULL DEFAULT 0
      );
      DROP INDEX IF EXISTS tokens_family;
      CREATE INDEX IF NOT EXISTS tokens_family_state ON tokens (family, state, spent_at);
      CREATE INDEX IF NOT EXISTS tokens_purge ON tokens (purge_after) WHERE purge_after IS NOT NULL;
    `);
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('tokens')").toArray();
    if (!columns.some((column) => column.name === "gateway_seen")) {
      sql.exec("ALTER TABLE tokens ADD COLUMN gateway_seen INTEGER NOT NULL DEFAULT 0");
    }
  },
  // 2: `extra` meant two things: a code's binding (JSON) and, on tokens, the public-client marker.
  (sql) => {
    sql.exec(`
      ALTER TABLE tokens ADD COLUMN code_binding TEXT;
      ALTER TABLE tokens ADD COLUMN public_client INTEGER NOT NULL DEFAULT 0;
      UPDATE tokens SET code_binding = extra WHERE kind = 'code';
      UPDATE tokens SET public_client = 1 WHERE kind != 'code' AND extra = '{"publicClient":true}';
      ALTER TABLE tokens DROP COLUMN extra;
    `);
  },
  // 3: consent forms already used (src/durable/shard/spent-forms.ts).
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS spent_forms (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS spent_forms_expiry ON spent_forms (expires_at);
    `);
  },
  // 4: credential epochs (src/durable/shard/user-epochs.ts): the shard's view of each user's epoch, and the
  //    epoch each token, code and family was minted under (null before epochs existed: read as 0).
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS user_epochs (user TEXT PRIMARY KEY, epoch INTEGER NOT NULL, live INTEGER NOT NULL);
      ALTER TABLE tokens ADD COLUMN user_epoch INTEGER;
    `);
  },
  // 5: the durable outbox of gateway-cache purges (src/durable/shard/purge-outbox.ts).
  (sql) =>
    sql.exec("CREATE TABLE IF NOT EXISTS pending_purges (hash TEXT PRIMARY KEY, since INTEGER NOT NULL)"),
  // 6: failed client authentications per source (src/durable/shard/client-throttle.ts). The client table's
  //    failures / window_start / locked_until columns are no longer used.
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS source_failures (
        source TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS source_failures_window ON source_failures (window_start);
      CREATE TABLE IF NOT EXISTS source_locks (source TEXT PRIMARY KEY, locked_until INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS source_locks_until ON source_locks (locked_until);
    `);
  },
];

import type { Migration } from "../migrations";

/**
 * The SQLite schema of the SigningKeys Durable Object; every SQL statement of it lives here, and its numbered
 * migrations (src/durable/migrations.ts) create it.
 *
 * One row per key. `private_sealed` is the private JWK sealed under the key-encryption key
 * (src/signing/key-wrap.ts), never plaintext. `publish_until` (epoch ms) is the latest `exp` any JWT signed
 * with the key may carry: it only grows, as isolates lease the key and reserve longer lifetimes, so once a
 * retired key's `publish_until` has passed, nothing it signed is still valid and it leaves the JWKS.
 */
export type KeyState = "next" | "active" | "retired";

export interface KeyRow {
  kid: string;
  alg: string;
  public_jwk: string;
  private_sealed: string;
  state: KeyState;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  publish_until: number | null;
}

const SCHEMA_1 = `
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_sealed TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  retired_at INTEGER,
  publish_until INTEGER
);
`;

/** Released entries are never edited; a change is a new entry at the end. */
export const SIGNING_MIGRATIONS: readonly Migration[] = [
  // 1: the schema as it stood before numbered migrations.
  (sql) => sql.exec(SCHEMA_1),
];

type Row = Record<string, SqlStorageValue>;

export class KeyTable {
  constructor(private readonly sql: SqlStorage) {}

  /** Every key, the active one first, then the next one, then retired keys newest first. */
  all(): KeyRow[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM signing_keys
         ORDER BY CASE state WHEN 'active' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, created_at DESC`,
      )
      .toArray() as unknown as KeyRow[];
  }

  inState(state: KeyState): KeyRow | null {
    const rows = this.sql.exec<Row>("SELECT * FROM signing_keys WHERE state = ? LIMIT 1", state).toArray();
    return (rows[0] as unknown as KeyRow | undefined) ?? null;
  }

  get(kid: string): KeyRow | null {
    const rows = this.sql.exec<Row>("SELECT * FROM signing_keys WHERE kid = ?", kid).toArray();
    return (rows[0] as unknown as KeyRow | undefined) ?? null;
  }

  insert(row: KeyRow): void {
    this.sql.exec(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_sealed, state, created_at, activated_at, retired_at,
         publish_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.kid,
      row.alg,
      row.public_jwk,
      row.private_sealed,
      row.state,
      row.created_at,
      row.activated_at,
      row.retired_at,
      row.publish_until,
    );
  }

  activate(kid: string, now: number): void {
    this.sql.exec("UPDATE signing_keys SET state = 'active', activated_at = ? WHERE kid = ?", now, kid);
  }

  retire(kid: string, now: number): void {
    this.sql.exec("UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE kid = ?", now, kid);
  }

  delete(kid: string): void {
    this.sql.exec("DELETE FROM signing_keys WHERE kid = ?", kid);
  }

  /** Raises the key's `publish_until` to at least `until`; returns the new value (0 if there is no such key). */
  extendPublication(kid: string, until: number): number {
    this.sql.exec(
      "UPDATE signing_keys SET publish_until = MAX(COALESCE(publish_until, 0), ?) WHERE kid = ?",
      until,
      kid,
    );
    return this.get(kid)?.publish_until ?? 0;
  }

  /** Deletes retired keys whose every signature has expired. */
  dropExpired(now: number): void {
    this.sql.exec(
      "DELETE FROM signing_keys WHERE state = 'retired' AND (publish_until IS NULL OR publish_until <= ?)",
      now,
    );
  }

  /** When the next retired key may be dropped, or null if none is retired. */
  nextDrop(): number | null {
    const row = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(COALESCE(publish_until, 0)) AS at FROM signing_keys WHERE state = 'retired'",
      )
      .one();
    return row.at;
  }
}

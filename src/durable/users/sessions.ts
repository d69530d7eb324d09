import type { SqlRow } from "../registry/schema";

/** How long a developer-portal session lives: `absoluteMs` from sign-in, and `idleMs` since its last use. */
export interface SessionLifetime {
  absoluteMs: number;
  idleMs: number;
}

interface SessionRow {
  id_hash: string;
  username: string;
  expires_at: number;
  idle_until: number;
  last_seen: number;
}

/** Use within this long of the last recorded use is not written again (saves a write per page view). */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Developer-portal sessions (README "Developer portal"): the browser holds a random 256-bit id, this table
 * only its SHA-256, the user and two deadlines. Sign-out deletes the row; so do a password change and the
 * user's deletion. Expired rows are removed as new sessions are created, so the table stays bounded.
 */
export class SessionStore {
  constructor(private readonly sql: SqlStorage) {}

  create(idHash: string, username: string, lifetime: SessionLifetime, now: number): void {
    this.sql.exec("DELETE FROM portal_sessions WHERE expires_at <= ? OR idle_until <= ?", now, now);
    this.sql.exec(
      `INSERT INTO portal_sessions (id_hash, username, created_at, last_seen, expires_at, idle_until)
       VALUES (?, ?, ?, ?, ?, ?)`,
      idHash,
      username,
      now,
      now,
      now + lifetime.absoluteMs,
      Math.min(now + lifetime.idleMs, now + lifetime.absoluteMs),
    );
  }

  /** The session's user, sliding its idle deadline; null when unknown, ended or expired. */
  use(idHash: string, lifetime: SessionLifetime, now: number): string | null {
    const rows = this.sql.exec<SqlRow>("SELECT * FROM portal_sessions WHERE id_hash = ?", idHash).toArray();
    const row = rows[0] as unknown as SessionRow | undefined;
    if (!row) return null;
    if (row.expires_at <= now || row.idle_until <= now) {
      this.end(idHash);
      return null;
    }
    if (now - row.last_seen >= TOUCH_INTERVAL_MS) {
      this.sql.exec(
        "UPDATE portal_sessions SET last_seen = ?, idle_until = ? WHERE id_hash = ?",
        now,
        Math.min(now + lifetime.idleMs, row.expires_at),
        idHash,
      );
    }
    return row.username;
  }

  end(idHash: string): void {
    this.sql.exec("DELETE FROM portal_sessions WHERE id_hash = ?", idHash);
  }

  endAllOf(username: string): void {
    this.sql.exec("DELETE FROM portal_sessions WHERE username = ?", username);
  }
}

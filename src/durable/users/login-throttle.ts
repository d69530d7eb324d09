import type { SqlRow } from "../registry/schema";
import { currentWindow, exhausted, type FailureWindow, secondsLeft, THROTTLE } from "../throttle";

/** What a log-in attempt may do: be evaluated (after waiting `waitMs` for its paced slot), or not at all. */
export type LoginGate = { ok: true; waitMs: number } | { ok: false; retryAfter: number };

/** How an admitted attempt ended; `abandoned`: the password was never judged (e.g. the client failed). */
export type LoginOutcome = "success" | "failure" | "abandoned";

/**
 * The user side of src/durable/throttle.ts: failed log-ins per (user name, source) and the pace per user name,
 * for any name, existing or not, so that being throttled says nothing about whether a user exists. Each attempt
 * is admitted (and counted as a failure until it proves otherwise) in one serialized step of the user store,
 * so at most THROTTLE.MAX_FAILURES wrong passwords from one source are ever evaluated per window.
 * Self-contained, with its own tables: it moves with the users when they move.
 */
export class LoginThrottle {
  constructor(private readonly sql: SqlStorage) {}

  begin(principal: string, source: string, now: number): LoginGate {
    this.forgetOld(now);
    const attempts = currentWindow(this.sourceWindow(principal, source), now);
    if (exhausted(attempts)) return { ok: false, retryAfter: secondsLeft(attempts, now) };
    const pace = this.pace(principal, now);
    let waitMs = 0;
    if (pace.failures >= THROTTLE.SLOW_AFTER) {
      const slot = Math.max(now, pace.nextSlot);
      if (slot - now > THROTTLE.MAX_WAIT_MS) return { ok: false, retryAfter: Math.ceil((slot - now) / 1000) };
      waitMs = slot - now;
      this.writePace(principal, { ...pace, nextSlot: slot + THROTTLE.PACE_MS });
    }
    this.writeSource(principal, source, {
      failures: attempts.failures + 1,
      windowStart: attempts.windowStart,
    });
    return { ok: true, waitMs };
  }

  finish(principal: string, source: string, outcome: LoginOutcome, now: number): void {
    if (outcome === "success") {
      this.sql.exec("DELETE FROM login_sources WHERE principal = ? AND source = ?", principal, source);
      this.sql.exec("DELETE FROM login_pace WHERE principal = ?", principal);
      return;
    }
    if (outcome === "abandoned") {
      this.sql.exec(
        "UPDATE login_sources SET failures = MAX(0, failures - 1) WHERE principal = ? AND source = ?",
        principal,
        source,
      );
      return;
    }
    const pace = this.pace(principal, now);
    this.writePace(principal, { ...pace, failures: pace.failures + 1 });
  }

  private sourceWindow(principal: string, source: string): FailureWindow | null {
    const row = this.sql
      .exec<SqlRow>(
        "SELECT failures, window_start FROM login_sources WHERE principal = ? AND source = ?",
        principal,
        source,
      )
      .toArray()[0];
    return row ? { failures: row.failures as number, windowStart: row.window_start as number } : null;
  }

  private writeSource(principal: string, source: string, window: FailureWindow): void {
    this.sql.exec(
      `INSERT INTO login_sources (principal, source, failures, window_start) VALUES (?, ?, ?, ?)
       ON CONFLICT (principal, source) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start`,
      principal,
      source,
      window.failures,
      window.windowStart,
    );
  }

  private pace(principal: string, now: number): FailureWindow & { nextSlot: number } {
    const row = this.sql
      .exec<SqlRow>("SELECT failures, window_start, next_slot FROM login_pace WHERE principal = ?", principal)
      .toArray()[0];
    const window = currentWindow(
      row ? { failures: row.failures as number, windowStart: row.window_start as number } : null,
      now,
    );
    const nextSlot = row && window.windowStart === row.window_start ? (row.next_slot as number) : 0;
    return { ...window, nextSlot };
  }

  private writePace(principal: string, pace: FailureWindow & { nextSlot: number }): void {
    this.sql.exec(
      `INSERT INTO login_pace (principal, failures, window_start, next_slot) VALUES (?, ?, ?, ?)
       ON CONFLICT (principal) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
         next_slot = excluded.next_slot`,
      principal,
      pace.failures,
      pace.windowStart,
      pace.nextSlot,
    );
  }

  /** Rows whose window has ended are dead weight: a few are deleted per attempt, so the tables stay bounded. */
  private forgetOld(now: number): void {
    const before = now - THROTTLE.WINDOW_MS;
    this.sql.exec(
      "DELETE FROM login_sources WHERE rowid IN (SELECT rowid FROM login_sources WHERE window_start < ? LIMIT 20)",
      before,
    );
    this.sql.exec(
      "DELETE FROM login_pace WHERE rowid IN (SELECT rowid FROM login_pace WHERE window_start < ? LIMIT 20)",
      before,
    );
  }
}

/** These tables, for the user store's schema (src/durable/users/schema.ts; the registry's migration 7 made them before users moved). */
export const LOGIN_THROTTLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS login_sources (
  principal TEXT NOT NULL,
  source TEXT NOT NULL,
  failures INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  PRIMARY KEY (principal, source)
);
CREATE INDEX IF NOT EXISTS login_sources_window ON login_sources (window_start);
CREATE TABLE IF NOT EXISTS login_pace (
  principal TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  next_slot INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_pace_window ON login_pace (window_start);
`;

import { currentWindow, exhausted, type FailureWindow, THROTTLE } from "../throttle";
import type { SqlRow } from "./schema";

/** What the home shard says about one more failed authentication from a source. */
export interface FailureVerdict {
  /** False when the source had used up its failures: the attempt was refused without counting. */
  counted: boolean;
  /** Epoch ms until which the source is locked out of this key (0: it is not). */
  lockedUntil: number;
  /** This failure locked the source: every other shard must be told before it is answered. */
  newlyLocked: boolean;
  /** How long to hold the answer: the key is being slowed down (too many failures from all sources). */
  paceMs: number;
}

/** Sources whose lock a shard keeps in memory (beyond it, the memory starts over: the rows stay authoritative). */
const MEMORY_ENTRIES = 10_000;

/** The key-wide row of `source_failures`: failures from all sources, for slowing the key down. */
const ALL_SOURCES = "*";
/** A consumer key is slowed down past this many failures from all sources in a window (secrets are strong). */
const KEY_SLOW_AFTER = 4 * THROTTLE.SLOW_AFTER;

/**
 * The client side of src/durable/throttle.ts, in a consumer key's shards. The key's home shard (0) counts failed
 * authentications per source, in one serialized step each, and when a source reaches THROTTLE.MAX_FAILURES it
 * tells every shard of the key, which then refuse that source before looking at its secret until the window
 * ends. Other sources are untouched.
 */
export class ClientThrottle {
  /**
   * Each source's lock as last read or written (0: none), so that an authentication, which asks on every request,
   * reads the table once per source. Every write of the table goes through {@link applyLock}, which keeps this in
   * step; the clean-up deletes only locks that have ended.
   */
  private readonly locks = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {}

  /** Seconds the source stays locked out of this key on this shard; 0 when it is not. */
  lockedFor(source: string, now: number): number {
    let until = this.locks.get(source);
    if (until === undefined) {
      const row = this.sql
        .exec<SqlRow>("SELECT locked_until FROM source_locks WHERE source = ?", source)
        .toArray()[0];
      until = (row?.locked_until as number | undefined) ?? 0;
      this.remember(source, until);
    }
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  applyLock(source: string, lockedUntil: number): void {
    const [row] = this.sql
      .exec<SqlRow>(
        `INSERT INTO source_locks (source, locked_until) VALUES (?, ?)
         ON CONFLICT (source) DO UPDATE SET locked_until = MAX(locked_until, excluded.locked_until)
         RETURNING locked_until`,
        source,
        lockedUntil,
      )
      .toArray();
    this.remember(source, (row?.locked_until as number | undefined) ?? lockedUntil);
  }

  private remember(source: string, until: number): void {
    if (this.locks.size >= MEMORY_ENTRIES && !this.locks.has(source)) this.locks.clear();
    this.locks.set(source, until);
  }

  /** Home shard only: counts one failure of `source` (or refuses to, once it is used up). */
  count(source: string, now: number): FailureVerdict {
    this.forgetOld(now);
    const window = currentWindow(this.window(source), now);
    const lockEnd = window.windowStart + THROTTLE.WINDOW_MS;
    if (exhausted(window)) return { counted: false, lockedUntil: lockEnd, newlyLocked: false, paceMs: 0 };
    const next = { failures: window.failures + 1, windowStart: window.windowStart };
    this.write(source, next);
    const newlyLocked = exhausted(next);
    if (newlyLocked) this.applyLock(source, lockEnd);
    const all = currentWindow(this.window(ALL_SOURCES), now);
    const allNext = { failures: all.failures + 1, windowStart: all.windowStart };
    this.write(ALL_SOURCES, allNext);
    return {
      counted: true,
      lockedUntil: newlyLocked ? lockEnd : 0,
      newlyLocked,
      paceMs: allNext.failures > KEY_SLOW_AFTER ? THROTTLE.PACE_MS : 0,
    };
  }

  private window(source: string): FailureWindow | null {
    const row = this.sql
      .exec<SqlRow>("SELECT failures, window_start FROM source_failures WHERE source = ?", source)
      .toArray()[0];
    return row ? { failures: row.failures as number, windowStart: row.window_start as number } : null;
  }

  private write(source: string, window: FailureWindow): void {
    this.sql.exec(
      `INSERT INTO source_failures (source, failures, window_start) VALUES (?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start`,
      source,
      window.failures,
      window.windowStart,
    );
  }

  /** A few rows whose window or lock has ended are deleted per failure, so the tables stay bounded. */
  private forgetOld(now: number): void {
    this.sql.exec(
      "DELETE FROM source_failures WHERE rowid IN (SELECT rowid FROM source_failures WHERE window_start < ? LIMIT 20)",
      now - THROTTLE.WINDOW_MS,
    );
    this.sql.exec(
      "DELETE FROM source_locks WHERE rowid IN (SELECT rowid FROM source_locks WHERE locked_until < ? LIMIT 20)",
      now,
    );
  }
}

import { type TierPolicy, UNLIMITED } from "../../core/tiers";
import { conflict, found, invalid, notFound, type RegistryResult } from "./result";
import type { SqlRow } from "./schema";

/** An admin-defined tier (README "Throttling"): every field but the description is required on creation. */
export interface TierInput {
  name: string;
  requestCount: number;
  unitTime: number;
  stopOnQuotaReach: boolean;
  description: string | null;
}

export type TierChanges = Partial<Omit<TierInput, "name">>;

export interface TierView extends TierPolicy {
  description: string | null;
}

interface TierRow {
  name: string;
  request_count: number | null;
  unit_time: number | null;
  stop_on_quota_reach: number;
  description: string | null;
}

const tierView = (row: TierRow): TierView => ({
  name: row.name,
  requestCount: row.request_count,
  unitTime: row.unit_time,
  stopOnQuotaReach: row.stop_on_quota_reach === 1,
  description: row.description,
});

/**
 * Throttling tiers. Names are unique regardless of letter case and every look-up ignores case, answering the
 * stored spelling (`gold` finds `Gold`). `Unlimited` is built in: it cannot be changed or deleted, because it is
 * what a subscription or application without a tier gets.
 */
export class TierStore {
  constructor(private readonly sql: SqlStorage) {}

  private row(name: string): TierRow | null {
    const rows = this.sql
      .exec<SqlRow>("SELECT * FROM tiers WHERE name = ? COLLATE NOCASE", name)
      .toArray() as unknown as TierRow[];
    return rows[0] ?? null;
  }

  list(): TierView[] {
    const rows = this.sql
      .exec<SqlRow>("SELECT * FROM tiers ORDER BY request_count IS NULL, request_count, name")
      .toArray() as unknown as TierRow[];
    return rows.map(tierView);
  }

  get(name: string): RegistryResult<TierView> {
    const row = this.row(name);
    return row ? found(tierView(row)) : notFound(`no tier ${name}`);
  }

  /** The stored name of a tier, for a subscription or application that names it: an unknown one is a 400. */
  resolve(name: string): RegistryResult<string> {
    const row = this.row(name);
    return row ? found(row.name) : invalid(`unknown tier ${name}: GET /admin/tiers lists the tiers`);
  }

  create(input: TierInput): RegistryResult<TierView> {
    if (this.row(input.name)) return conflict(`a tier named ${input.name} exists`);
    this.sql.exec(
      `INSERT INTO tiers (name, request_count, unit_time, stop_on_quota_reach, description, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      input.name,
      input.requestCount,
      input.unitTime,
      input.stopOnQuotaReach ? 1 : 0,
      input.description,
      Date.now(),
    );
    return this.get(input.name);
  }

  update(name: string, changes: TierChanges): RegistryResult<TierView> {
    const row = this.row(name);
    if (!row) return notFound(`no tier ${name}`);
    if (row.name === UNLIMITED) return conflict(`${UNLIMITED} is built in and cannot be changed`);
    this.sql.exec(
      `UPDATE tiers SET request_count = ?, unit_time = ?, stop_on_quota_reach = ?, description = ?
       WHERE name = ?`,
      changes.requestCount ?? row.request_count,
      changes.unitTime ?? row.unit_time,
      changes.stopOnQuotaReach === undefined ? row.stop_on_quota_reach : changes.stopOnQuotaReach ? 1 : 0,
      changes.description === undefined ? row.description : changes.description,
      row.name,
    );
    return this.get(row.name);
  }

  /** Deletes a tier nobody names; `users` says how many subscriptions and applications still do. */
  delete(name: string, users: { subscriptions: number; applications: number }): RegistryResult<TierView> {
    const row = this.row(name);
    if (!row) return notFound(`no tier ${name}`);
    if (row.name === UNLIMITED) return conflict(`${UNLIMITED} is built in and cannot be deleted`);
    if (users.subscriptions > 0 || users.applications > 0) {
      return conflict(
        `tier ${row.name} is in use by ${users.subscriptions} subscription(s) and ${users.applications} ` +
          "application(s): move them to another tier first",
      );
    }
    this.sql.exec("DELETE FROM tiers WHERE name = ?", row.name);
    return found(tierView(row));
  }
}

import type { SqlRow } from "./schema";

/** The shard's copy of its consumer key's record and the key's failed-authentication state: one row. */
export interface ClientRow {
  record: string;
  failures: number;
  window_start: number;
  locked_until: number;
}

export class ClientTable {
  constructor(private readonly sql: SqlStorage) {}

  get(): ClientRow | null {
    const rows = this.sql
      .exec<SqlRow>("SELECT record, failures, window_start, locked_until FROM client")
      .toArray();
    return (rows[0] as unknown as ClientRow | undefined) ?? null;
  }

  put(record: string): void {
    this.sql.exec(
      "INSERT INTO client (id, record) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
      record,
    );
  }

  remove(): void {
    this.sql.exec("DELETE FROM client");
  }

  setFailures(failures: number, windowStart: number, lockedUntil: number): void {
    this.sql.exec(
      "UPDATE client SET failures = ?, window_start = ?, locked_until = ? WHERE id = 1",
      failures,
      windowStart,
      lockedUntil,
    );
  }
}

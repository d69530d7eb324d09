import type { SqlRow } from "./schema";

/** The shard's copy of its consumer key's record: one row (failures are src/durable/shard/client-throttle.ts's). */
export interface ClientRow {
  record: string;
}

export class ClientTable {
  constructor(private readonly sql: SqlStorage) {}

  get(): ClientRow | null {
    const rows = this.sql.exec<SqlRow>("SELECT record FROM client").toArray();
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
}

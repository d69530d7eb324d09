import type { ClientRecord } from "../../core/client-record";
import type { TokenRoute } from "../../core/token-format";
import { registryStub } from "../names";
import type { ClientTable } from "./client-table";

/** How long a shard trusts that a consumer key it could not find does not exist before asking again. */
const UNKNOWN_CLIENT_TTL_MS = 5_000;

/**
 * The shard's copy of its consumer key's record. The registry owns the record and pushes every change
 * (`replace`); a shard that has none pulls it once (`load`), which also tells the registry this shard holds a copy.
 */
export class ClientRecordStore {
  private record: ClientRecord | null | undefined;
  private unknownUntil = 0;

  constructor(
    private readonly env: Env,
    private readonly clients: ClientTable,
  ) {}

  /** The record as this shard holds it (memory, else its row), without asking the registry. */
  stored(): ClientRecord | null {
    if (this.record) return this.record;
    const row = this.clients.get();
    if (!row) return null;
    this.record = JSON.parse(row.record) as ClientRecord;
    return this.record;
  }

  /** The stored record, else the registry's; null when the key does not exist (remembered for a few seconds). */
  async load(route: TokenRoute): Promise<ClientRecord | null> {
    const stored = this.stored();
    if (stored) return stored;
    if (Date.now() < this.unknownUntil) return null;
    const record = await registryStub(this.env).getClientRecord(route);
    if (!record) {
      this.unknownUntil = Date.now() + UNKNOWN_CLIENT_TTL_MS;
      return null;
    }
    this.clients.put(JSON.stringify(record));
    this.record = record;
    return record;
  }

  /** The registry's push: the key's new record, or null when the key is gone. */
  replace(record: ClientRecord | null): void {
    if (record) this.clients.put(JSON.stringify(record));
    else this.clients.remove();
    this.record = record;
  }
}

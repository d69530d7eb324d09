import { PURGE_RETRY_MS, type PurgeOutbox } from "./purge-outbox";
import { SPENT_PER_FAMILY, type TokenTable } from "./schema";
import type { SpentForms } from "./spent-forms";

/** Clean-ups are batched: at most one alarm a minute for them (a pending purge is retried sooner). */
const MIN_INTERVAL_MS = 60_000;

/**
 * The shard's one alarm. It publishes the purge outbox's pending markers (src/durable/shard/purge-outbox.ts) and
 * deletes expired, revoked and spent rows whose retention has passed, each family's spent refresh tokens beyond
 * the newest SPENT_PER_FAMILY, and expired consent-form nonces, so the table does not grow without bound; then
 * re-arms itself for whichever is due next.
 */
export class CleanupAlarm {
  private alarmAt: number | null | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly tokens: TokenTable,
    private readonly forms: SpentForms,
    private readonly outbox: PurgeOutbox,
  ) {}

  /** Makes sure a clean-up runs no later than about `at` (epoch ms); null: nothing to clean. */
  async schedule(at: number | null): Promise<void> {
    if (at === null) return;
    await this.armBy(Math.max(at, Date.now() + MIN_INTERVAL_MS));
  }

  /** Soon after a call that revoked or rotated tokens. */
  async scheduleSoon(): Promise<void> {
    await this.schedule(Date.now() + MIN_INTERVAL_MS);
  }

  /** After a call that queued purges: the outbox is checked within PURGE_RETRY_MS. */
  async schedulePurge(): Promise<void> {
    await this.armBy(Date.now() + PURGE_RETRY_MS);
  }

  /** The alarm handler. */
  async run(): Promise<void> {
    const now = Date.now();
    const retryAt = await this.outbox.publish(now);
    this.tokens.purge(now);
    this.tokens.trimSpent(SPENT_PER_FAMILY);
    this.forms.purge(now);
    this.alarmAt = null;
    if (retryAt !== null) await this.armBy(Math.max(retryAt, Date.now() + 10));
    await this.schedule(earliest(this.tokens.nextPurge(), this.forms.nextPurge()));
  }

  private async armBy(when: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= when) return;
    this.alarmAt = when;
    await this.storage.setAlarm(when);
  }
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

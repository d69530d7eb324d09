import type { TokenTable } from "./schema";
import type { SpentForms } from "./spent-forms";

/** Clean-ups are batched: at most one alarm a minute. */
const MIN_INTERVAL_MS = 60_000;

/**
 * The shard's clean-up alarm: deletes expired, revoked and spent rows whose retention has passed, and expired consent-form nonces, so the
 * table does not grow without bound, then re-arms itself for the next row due.
 */
export class CleanupAlarm {
  private alarmAt: number | null | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly tokens: TokenTable,
    private readonly forms: SpentForms,
  ) {}

  /** Makes sure a clean-up runs no later than about `at` (epoch ms); null: nothing to clean. */
  async schedule(at: number | null): Promise<void> {
    if (at === null) return;
    const when = Math.max(at, Date.now() + MIN_INTERVAL_MS);
    if (this.alarmAt === undefined) this.alarmAt = await this.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= when) return;
    this.alarmAt = when;
    await this.storage.setAlarm(when);
  }

  /** Soon after a call that revoked or rotated tokens. */
  async scheduleSoon(): Promise<void> {
    await this.schedule(Date.now() + MIN_INTERVAL_MS);
  }

  /** The alarm handler. */
  async run(): Promise<void> {
    const now = Date.now();
    this.tokens.purge(now);
    this.forms.purge(now);
    this.alarmAt = null;
    await this.schedule(earliest(this.tokens.nextPurge(), this.forms.nextPurge()));
  }
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

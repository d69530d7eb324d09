import { DurableObject } from "cloudflare:workers";
import {
  type CounterWindow,
  currentWindow,
  grantLease,
  type LeaseGrant,
  type LeaseRequest,
  validLeaseRequest,
} from "./throttle/window";

/** Storage key of the counter's window. */
const WINDOW = "window";

/** What the admin API shows of a counter (GET /admin/applications/{id}/usage). */
export interface CounterUsage {
  unitTime: number | null;
  windowStart: number | null;
  windowEnd: number | null;
  /** Permits granted in the window (leased to gateway instances; spent or about to be). */
  used: number;
  leases: number;
}

/**
 * The authority of one throttling counter (README "Throttling"): one object per application + API (subscription
 * tier) and one per application (application tier), named in src/durable/names.ts. Gateway instances lease
 * permits from it in batches (src/gateway/throttle/permits.ts); it grants at most the tier's limit per window.
 * The window is stored, so a restarted object never grants a window's permits twice.
 */
export class ThrottleCounter extends DurableObject<Env> {
  private window: CounterWindow | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.window = ctx.storage.kv.get<CounterWindow>(WINDOW) ?? null;
  }

  async lease(request: LeaseRequest): Promise<LeaseGrant> {
    const valid = validLeaseRequest(request);
    if (!valid) throw new Error("a lease needs whole positive limit, unitTime and want");
    const { window, grant } = grantLease(currentWindow(this.window, valid.unitTime, Date.now()), valid);
    this.window = window;
    this.ctx.storage.kv.put(WINDOW, window);
    return grant;
  }

  async usage(): Promise<CounterUsage> {
    const window = this.window && Date.now() < this.window.end ? this.window : null;
    return {
      unitTime: window?.unitTime ?? null,
      windowStart: window?.start ?? null,
      windowEnd: window?.end ?? null,
      used: window?.used ?? 0,
      leases: window?.leases ?? 0,
    };
  }
}

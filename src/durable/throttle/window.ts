/**
 * The arithmetic of one throttling counter (README "Throttling", "How the limit holds globally"): a fixed window
 * of `unitTime` seconds that starts at the first call counted after the previous one ended, and the permits
 * granted in it. Pure functions over plain data, so the counter object only stores and serves them.
 */

/** One counter's current window. `used` counts permits granted (leased), whether or not spent yet. */
export interface CounterWindow {
  unitTime: number;
  start: number;
  end: number;
  used: number;
  /** Lease requests answered in this window (each one is one Durable Object call). */
  leases: number;
}

export interface LeaseRequest {
  /** The tier's requestCount and unitTime (seconds), as the caller knows them: a tier change applies at once. */
  limit: number;
  unitTime: number;
  /** How many permits the caller would like: what it expects to spend soon (README: the lease size). */
  want: number;
}

export interface LeaseGrant {
  granted: number;
  /** Permits left in the window after this grant, for every caller together. */
  remaining: number;
  limit: number;
  /** Epoch ms at which the window ends; the permits are void after it. */
  windowEnd: number;
}

/** At most this share of what is left goes to one lease, so one instance cannot hoard a window's last permits. */
export const MAX_SHARE = 0.25;
/** Never more than this in one lease, whatever the rate. */
export const MAX_LEASE = 10_000;

/** The window a call at `now` falls in: the current one, or a new one from `now` (also when unitTime changed). */
export function currentWindow(window: CounterWindow | null, unitTime: number, now: number): CounterWindow {
  if (window && window.unitTime === unitTime && now < window.end) return window;
  return { unitTime, start: now, end: now + unitTime * 1000, used: 0, leases: 0 };
}

/**
 * Grants up to `want` permits: never more than the limit leaves in the window (so at most `limit` calls pass per
 * window, however many instances lease), and never more than a quarter of what is left (at least one), so the
 * permits an instance holds unspent stay a small part of the window.
 */
export function grantLease(
  window: CounterWindow,
  request: LeaseRequest,
): { window: CounterWindow; grant: LeaseGrant } {
  const left = Math.max(0, request.limit - window.used);
  const share = Math.max(1, Math.ceil(left * MAX_SHARE));
  const want = Math.max(1, Math.min(MAX_LEASE, Math.floor(request.want)));
  const granted = Math.min(want, left, share);
  const next = { ...window, used: window.used + granted, leases: window.leases + 1 };
  return {
    window: next,
    grant: { granted, remaining: left - granted, limit: request.limit, windowEnd: next.end },
  };
}

/** A lease request as it crossed the RPC boundary: whole positive numbers, or null. */
export function validLeaseRequest(request: LeaseRequest): LeaseRequest | null {
  const whole = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 1;
  if (!whole(request?.limit) || !whole(request?.unitTime) || !whole(request?.want)) return null;
  return request;
}

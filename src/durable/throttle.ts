/**
 * Failed-authentication throttling (README "Lock-out and throttling"), shared by client authentication (per
 * consumer key, src/durable/shard/authentication.ts) and user log-in (per user name,
 * src/durable/users/login-throttle.ts). Two rules:
 *
 * - Per source (`CF-Connecting-IP`): at most MAX_FAILURES failed attempts per principal within WINDOW_MS from
 *   one source are evaluated; further ones from that source are refused without evaluating them until the
 *   window ends. Counted in one serialized step per principal, so the bound is exact under concurrency. Other
 *   sources are not affected: a flood from one address never blocks the right secret or password from another.
 * - Per credential: past SLOW_AFTER failures from all sources within the window, the principal is slowed down
 *   (user log-ins are paced to one evaluation per PACE_MS; client failures are answered PACE_MS late), which
 *   bounds distributed guessing without refusing anyone outright.
 */
export const THROTTLE = {
  MAX_FAILURES: 5,
  WINDOW_MS: 5 * 60_000,
  SLOW_AFTER: 10,
  PACE_MS: 1_000,
  /** A log-in that would wait longer than this for its slot is refused instead (try again later). */
  MAX_WAIT_MS: 5_000,
} as const;

/** A fixed window of failures, starting at the first failure. */
export interface FailureWindow {
  failures: number;
  windowStart: number;
}

/** The window as it stands at `now`: an expired one starts over empty. */
export function currentWindow(window: FailureWindow | null, now: number): FailureWindow {
  if (!window || now - window.windowStart >= THROTTLE.WINDOW_MS) return { failures: 0, windowStart: now };
  return window;
}

/** True when a source has used up its failures in this window. */
export function exhausted(window: FailureWindow): boolean {
  return window.failures >= THROTTLE.MAX_FAILURES;
}

/** Seconds until the window ends. */
export function secondsLeft(window: FailureWindow, now: number): number {
  return Math.max(1, Math.ceil((window.windowStart + THROTTLE.WINDOW_MS - now) / 1000));
}

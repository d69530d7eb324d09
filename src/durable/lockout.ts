/**
 * Failed-authentication throttling, shared by client authentication (per consumer-key shard) and user
 * log-in (per user). After MAX_FAILURES failures within WINDOW_MS the principal is locked for LOCK_MS,
 * during which even the right secret is refused.
 */
export const LOCKOUT = { MAX_FAILURES: 5, WINDOW_MS: 5 * 60_000, LOCK_MS: 5 * 60_000 } as const;

export interface FailureState {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

export function lockedFor(state: FailureState, now: number): number {
  return state.lockedUntil > now ? Math.ceil((state.lockedUntil - now) / 1000) : 0;
}

export function recordFailure(state: FailureState, now: number): FailureState {
  const fresh = now - state.windowStart > LOCKOUT.WINDOW_MS;
  const failures = fresh ? 1 : state.failures + 1;
  const windowStart = fresh ? now : state.windowStart;
  const lockedUntil = failures >= LOCKOUT.MAX_FAILURES ? now + LOCKOUT.LOCK_MS : state.lockedUntil;
  return { failures: failures >= LOCKOUT.MAX_FAILURES ? 0 : failures, windowStart, lockedUntil };
}

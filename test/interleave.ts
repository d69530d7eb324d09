/**
 * Deterministic interleaving for the concurrency tests, without any test hook in production code.
 *
 * Every await between a shard's pre-check and its decision transaction (hashing, minting, sealing) is WebCrypto,
 * which workerd completes without returning to the event loop: parallel requests never actually overlap there,
 * so a test that only fires them in parallel cannot tell a serialized decision from an unserialized one.
 *
 * `holdSealing(parties)` makes one of those awaits a real yield: it wraps `crypto.subtle.encrypt` (the shard
 * awaits it while minting a pair, to seal each token's sibling: after its pre-checks, before its decision) and
 * holds the first `parties` calls until all of them have arrived. The Durable Object's input gate is open while
 * a call waits (no storage operation is pending), so the other requests are delivered and run up to the same
 * point: every request has passed its pre-check before any of them decides. `arrived` and `releasedBy` prove
 * it; a timeout releases the calls (and the test then fails on `releasedBy`) instead of hanging.
 *
 * The test isolate runs the Worker and its Durable Objects, so the wrapper is what they call. Always `restore()`.
 */
export interface SealingHold {
  arrived: number;
  releasedBy: "all-arrived" | "timeout" | null;
  restore(): void;
}

export function holdSealing(parties: number, timeoutMs = 15_000): SealingHold {
  const subtle = crypto.subtle as unknown as { encrypt: (...args: unknown[]) => Promise<ArrayBuffer> };
  const original = subtle.encrypt;
  let release: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  const hold: SealingHold = {
    arrived: 0,
    releasedBy: null,
    restore() {
      clearTimeout(timer);
      release();
      delete (subtle as { encrypt?: unknown }).encrypt;
    },
  };
  const timer = setTimeout(() => {
    if (hold.releasedBy === null) hold.releasedBy = "timeout";
    release();
  }, timeoutMs);
  subtle.encrypt = async (...args: unknown[]) => {
    if (hold.releasedBy === null) {
      hold.arrived += 1;
      if (hold.arrived >= parties) {
        hold.releasedBy = "all-arrived";
        clearTimeout(timer);
        release();
      }
      await opened;
    }
    return original.apply(crypto.subtle, args);
  };
  return hold;
}

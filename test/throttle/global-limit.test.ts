import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { counterStub } from "../../src/durable/names";
import type { LeaseGrant, LeaseRequest } from "../../src/durable/throttle/window";
import { type Leaser, PermitBook } from "../../src/gateway/throttle/permits";
import { callApi, callWithVars } from "../gateway/gateway-helpers";
import { adminJson, unique } from "../helpers";
import { backendCount, countOf, createTier, tieredCaller } from "./throttle-helpers";

/** The real counter object, with every lease it answers recorded (who asked, what it granted). */
function recordingLeaser(log: Array<{ who: string; want: number; grant: LeaseGrant }>, who: string): Leaser {
  return async (counter: string, request: LeaseRequest) => {
    const grant = await counterStub(env, counter).lease(request);
    log.push({ who, want: request.want, grant });
    return grant;
  };
}

describe("a tier's limit holds globally", () => {
  it("N parallel calls against a limit of k forward exactly k (counted at the backend)", async () => {
    const k = 7;
    const tier = await createTier(k, 60);
    const caller = await tieredCaller({ subscriptionTier: tier });
    const id = unique("parallel");
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => callApi(caller.path(id, 300), caller.token)),
    );
    const statuses = responses.map((response) => response.status);
    for (const response of responses) await response.arrayBuffer();
    expect(countOf(statuses, 200)).toBe(k);
    expect(countOf(statuses, 429)).toBe(40 - k);
    const counted = await backendCount(id);
    expect(counted.calls).toBe(k);
    // The forwarded calls were at the backend at the same time: they really ran in parallel.
    expect(counted.maxInFlight).toBeGreaterThan(1);
  });

  it("gateway instances leasing from one counter at once never get more than the limit together", async () => {
    const limit = 60;
    const counter = unique("counter:");
    const tier = { name: "Sixty", requestCount: limit, unitTime: 60, stopOnQuotaReach: true };
    const log: Array<{ who: string; want: number; grant: LeaseGrant }> = [];
    // Four isolates' worth of permit books, each serving 50 parallel calls.
    const instances = ["a", "b", "c", "d"].map((who) => ({ who, book: new PermitBook() }));
    const takes = await Promise.all(
      instances.flatMap(({ who, book }) =>
        Array.from({ length: 50 }, () => book.pool(counter, tier).take(recordingLeaser(log, who))),
      ),
    );
    expect(takes.filter((take) => take.ok).length).toBe(limit);
    const granted = log.reduce((sum, entry) => sum + entry.grant.granted, 0);
    expect(granted).toBe(limit);
    // The instances' leases interleaved at the counter (not one instance's batch after another's).
    const order = log.map((entry) => entry.who).join("");
    expect(new Set(order.slice(0, 4)).size).toBeGreaterThan(1);
    // No lease took more than a quarter of what was left.
    let left = limit;
    for (const { grant } of log) {
      expect(grant.granted).toBeLessThanOrEqual(Math.max(1, Math.ceil(left / 4)));
      left -= grant.granted;
    }
  });

  it("spends a lease locally, renews it when spent, and stops asking once the quota is gone", async () => {
    const counter = unique("counter:");
    const tier = { name: "Lease", requestCount: 1000, unitTime: 60, stopOnQuotaReach: true };
    const log: Array<{ who: string; want: number; grant: LeaseGrant }> = [];
    const pool = new PermitBook().pool(counter, tier);
    const leaser = recordingLeaser(log, "one");
    for (let i = 0; i < 200; i++) expect((await pool.take(leaser)).ok).toBe(true);
    // Batches: far fewer counter calls than calls, each renewal after the previous batch was spent.
    expect(log.length).toBeGreaterThan(1);
    expect(log.length).toBeLessThanOrEqual(12);
    expect(log[0]?.grant.granted).toBe(1);
    expect(log.at(-1)?.want).toBeGreaterThan(1);
    const usage = await counterStub(env, counter).usage();
    expect(usage.leases).toBe(log.length);
    expect(usage.used).toBe(log.reduce((sum, entry) => sum + entry.grant.granted, 0));
    expect(usage.used).toBeGreaterThanOrEqual(200);

    // A small quota: spent, then refused locally without asking the counter, then renewed in the next window.
    const small = { name: "Small", requestCount: 3, unitTime: 1, stopOnQuotaReach: true };
    const smallLog: typeof log = [];
    const smallPool = new PermitBook().pool(unique("counter:"), small);
    const smallLeaser = recordingLeaser(smallLog, "small");
    const first = [];
    for (let i = 0; i < 6; i++) first.push(await smallPool.take(smallLeaser));
    expect(first.map((take) => take.ok)).toEqual([true, true, true, false, false, false]);
    const refused = first[3];
    expect(refused?.ok === false && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused?.ok === false && refused.retryAfterMs).toBeLessThanOrEqual(1000);
    const leasesWhileExhausted = smallLog.length;
    expect(smallLog.at(-1)?.grant.granted).toBe(0);
    // Permits left over from a window are void after it: a pool of 40 per second holding unspent ones.
    const leftoverLog: typeof log = [];
    const leftoverPool = new PermitBook().pool(unique("counter:"), { ...small, requestCount: 40 });
    const leftoverLeaser = recordingLeaser(leftoverLog, "leftover");
    for (let i = 0; i < 5; i++) expect((await leftoverPool.take(leftoverLeaser)).ok).toBe(true);
    const leased = leftoverLog.reduce((sum, entry) => sum + entry.grant.granted, 0);
    expect(leased).toBeGreaterThan(5);
    const firstWindowEnd = leftoverLog.at(-1)?.grant.windowEnd as number;
    // Half-way through the window, a refused call is told when the window ends, not a whole unitTime.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const later = await smallPool.take(smallLeaser);
    expect(later.ok).toBe(false);
    expect(later.ok === false && later.retryAfterMs).toBeLessThanOrEqual(600);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await smallPool.take(smallLeaser)).ok).toBe(true);
    expect(smallLog.length).toBe(leasesWhileExhausted + 1);
    const leasesBefore = leftoverLog.length;
    expect((await leftoverPool.take(leftoverLeaser)).ok).toBe(true);
    expect(leftoverLog.length).toBe(leasesBefore + 1);
    expect(leftoverLog.at(-1)?.grant.windowEnd).toBeGreaterThan(firstWindowEnd);
  });

  it("needs few counter calls per request when the quota is far from reached", async () => {
    const tier = await createTier(1_000_000, 3600);
    const caller = await tieredCaller({ subscriptionTier: tier });
    let leases = 0;
    const counting = {
      ...env,
      THROTTLE_COUNTERS: {
        idFromName: (name: string) => env.THROTTLE_COUNTERS.idFromName(name),
        get: (id: DurableObjectId) => {
          const stub = env.THROTTLE_COUNTERS.get(id);
          return {
            lease: (request: LeaseRequest) => {
              leases += 1;
              return stub.lease(request);
            },
          };
        },
      },
    } as unknown as Record<string, string>;
    const init = { headers: { Authorization: `Bearer ${caller.token}` } };
    const id = unique("steady");
    let calls = 0;
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 32 }, () => callWithVars(counting, caller.path(id), init)),
      );
      for (const response of responses) {
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }
      calls += responses.length;
    }
    console.log(`THROTTLE_DO_CALLS_PER_REQUEST ${JSON.stringify({ calls, leases, ratio: leases / calls })}`);
    // The admin API shows the same counter: every permit it granted, and each lease call that reached it.
    const usage = await adminJson<{ subscriptions: Array<{ tier: string; used: number; leases: number }> }>(
      "GET",
      `/applications/${caller.app.id}/usage`,
    );
    expect(usage.subscriptions[0]).toMatchObject({ tier, leases });
    expect(usage.subscriptions[0]?.used).toBeGreaterThanOrEqual(calls);
    expect(leases / calls).toBeLessThanOrEqual(0.1);
  });
});

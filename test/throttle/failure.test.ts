import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callWithVars } from "../gateway/gateway-helpers";
import { unique } from "../helpers";
import { backendCount, createTier, tieredCaller } from "./throttle-helpers";

/** The Worker with THROTTLE_COUNTERS bound to a counter object that always throws (vitest.config.ts). */
const brokenCounters = (vars: Record<string, string> = {}) =>
  ({
    ...env,
    // Bound in vitest.config.ts only: not part of the Worker's configuration (nor of its generated Env type).
    THROTTLE_COUNTERS: (env as unknown as { BROKEN_COUNTERS: unknown }).BROKEN_COUNTERS,
    ...vars,
  }) as unknown as Record<string, string>;

describe("a throttling counter that cannot be reached", () => {
  it("fails closed by default: 503, nothing forwarded", async () => {
    const caller = await tieredCaller({ subscriptionTier: await createTier(100, 60) });
    const id = unique("closed");
    const init = { headers: { Authorization: `Bearer ${caller.token}` } };
    for (let i = 0; i < 3; i++) {
      const response = await callWithVars(brokenCounters(), caller.path(id), init);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(await response.json()).toMatchObject({ error: "temporarily_unavailable" });
    }
    expect((await backendCount(id)).calls).toBe(0);
  });

  it("fails open with THROTTLE_FAIL_OPEN=true: forwarded, uncounted", async () => {
    const caller = await tieredCaller({ applicationTier: await createTier(100, 60) });
    const id = unique("open");
    const init = { headers: { Authorization: `Bearer ${caller.token}` } };
    const response = await callWithVars(
      brokenCounters({ THROTTLE_FAIL_OPEN: "true" }),
      caller.path(id),
      init,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit-limit")).toBeNull();
    await response.arrayBuffer();
    expect((await backendCount(id)).calls).toBe(1);
  });

  it("does not matter to an Unlimited call, which touches no counter", async () => {
    const caller = await tieredCaller();
    const id = unique("unlimited");
    const init = { headers: { Authorization: `Bearer ${caller.token}` } };
    const response = await callWithVars(brokenCounters(), caller.path(id), init);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect((await backendCount(id)).calls).toBe(1);
  });
});

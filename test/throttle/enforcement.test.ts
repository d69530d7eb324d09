import { describe, expect, it } from "vitest";
import { appToken, callApi, createApi } from "../gateway/gateway-helpers";
import { admin, adminJson, createApp, unique } from "../helpers";
import {
  backendCount,
  callSequentially,
  countOf,
  createTier,
  tieredCaller,
  usageOf,
} from "./throttle-helpers";

describe("throttling tiers at the gateway", () => {
  it("Bronze (1/min): the first call passes with RateLimit headers, the next is a 429 not forwarded", async () => {
    const caller = await tieredCaller({ subscriptionTier: "Bronze" });
    const id = unique("bronze");
    const first = await callApi(caller.path(id), caller.token);
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("1");
    expect(first.headers.get("ratelimit-remaining")).toBe("0");
    const reset = Number(first.headers.get("ratelimit-reset"));
    expect(reset).toBeGreaterThanOrEqual(1);
    expect(reset).toBeLessThanOrEqual(60);
    await first.arrayBuffer();

    const before = Date.now();
    const second = await callApi(caller.path(id), caller.token);
    const after = Date.now();
    expect(second.status).toBe(429);
    expect(second.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await second.json()).toEqual({ error: "throttled", tier: "Bronze", level: "subscription" });
    const retryAfter = Number(second.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    // The whole seconds until the counter's window ends, rounded up: a client retrying after it is not refused.
    const { windowEnd } = (await usageOf(caller.app.id)).subscriptions[0] as { windowEnd: number };
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((windowEnd - after) / 1000));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((windowEnd - before) / 1000));
    expect(second.headers.get("ratelimit-limit")).toBe("1");
    expect(second.headers.get("ratelimit-remaining")).toBe("0");
    expect(second.headers.get("ratelimit-reset")).toBe(String(retryAfter));
    expect((await backendCount(id)).calls).toBe(1);
  });

  it("Silver (5/min) and Gold (20/min) let exactly their count through", async () => {
    for (const [tier, limit] of [
      ["Silver", 5],
      ["Gold", 20],
    ] as const) {
      const caller = await tieredCaller({ subscriptionTier: tier });
      const id = unique(tier);
      const statuses = await callSequentially(caller.path(id), caller.token, limit + 3);
      expect(statuses).toEqual([...Array(limit).fill(200), 429, 429, 429]);
      expect((await backendCount(id)).calls).toBe(limit);
    }
  });

  it("Unlimited lets every call through without RateLimit headers", async () => {
    const caller = await tieredCaller();
    const id = unique("unlimited");
    const statuses = await callSequentially(caller.path(id), caller.token, 30);
    expect(countOf(statuses, 200)).toBe(30);
    const response = await callApi(caller.path(id), caller.token);
    expect(response.headers.get("ratelimit-limit")).toBeNull();
    await response.arrayBuffer();
  });

  it("the application tier limits all of an application's APIs together; the stricter tier refuses first", async () => {
    const caller = await tieredCaller({ subscriptionTier: "Gold", applicationTier: "Silver" });
    const other = await createApi();
    await adminJson("POST", "/subscriptions", { applicationId: caller.app.id, apiId: other.id });
    const id = unique("app-level");
    // The RateLimit headers describe the tier closest to refusing: the application's Silver, not Gold.
    const opening = await callApi(caller.path(id), caller.token);
    expect(opening.status).toBe(200);
    expect(opening.headers.get("ratelimit-limit")).toBe("5");
    expect(opening.headers.get("ratelimit-remaining")).toBe("4");
    await opening.arrayBuffer();
    const first = [200, ...(await callSequentially(caller.path(id), caller.token, 2))];
    const second = await callSequentially(`${other.context}/${other.version}/count/${id}`, caller.token, 2);
    expect([...first, ...second]).toEqual([200, 200, 200, 200, 200]);
    const refused = await callApi(caller.path(id), caller.token);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: "throttled", tier: "Silver", level: "application" });
    const elsewhere = await callApi(`${other.context}/${other.version}/count/${id}`, caller.token);
    expect(elsewhere.status).toBe(429);
    await elsewhere.arrayBuffer();
    expect((await backendCount(id)).calls).toBe(5);
  });

  it("counts a subscription tier per application and API: other APIs and other applications have their own", async () => {
    const caller = await tieredCaller({ subscriptionTier: "Bronze" });
    const otherApi = await createApi();
    await adminJson("POST", "/subscriptions", {
      applicationId: caller.app.id,
      apiId: otherApi.id,
      tier: "Bronze",
    });
    const otherApp = await createApp();
    await adminJson("POST", "/subscriptions", {
      applicationId: otherApp.id,
      apiId: caller.api.id,
      tier: "Bronze",
    });
    const otherToken = await appToken(otherApp.keys.PRODUCTION);
    const id = unique("per-subscription");
    const otherApiPath = `${otherApi.context}/${otherApi.version}/count/${id}`;
    expect(await callSequentially(caller.path(id), caller.token, 1)).toEqual([200]);
    expect(await callSequentially(otherApiPath, caller.token, 1)).toEqual([200]);
    expect(await callSequentially(caller.path(id), otherToken, 1)).toEqual([200]);
    expect(await callSequentially(caller.path(id), caller.token, 1)).toEqual([429]);
    expect(await callSequentially(otherApiPath, caller.token, 1)).toEqual([429]);
    expect(await callSequentially(caller.path(id), otherToken, 1)).toEqual([429]);
    expect((await backendCount(id)).calls).toBe(3);
  });

  it("without stop on quota reach, calls over the limit are forwarded marked X-Ekm-Throttled: true", async () => {
    const tier = await createTier(2, 60, false);
    const caller = await tieredCaller({ subscriptionTier: tier });
    const id = unique("soft");
    const responses = [];
    for (let i = 0; i < 5; i++) {
      const response = await callApi(caller.path(id), caller.token);
      const echo = (await response.json()) as { headers: Record<string, string> };
      responses.push({
        status: response.status,
        throttled: echo.headers["x-ekm-throttled"] ?? null,
        remaining: response.headers.get("ratelimit-remaining"),
      });
    }
    expect(responses).toEqual([
      { status: 200, throttled: null, remaining: "1" },
      { status: 200, throttled: null, remaining: "0" },
      { status: 200, throttled: "true", remaining: "0" },
      { status: 200, throttled: "true", remaining: "0" },
      { status: 200, throttled: "true", remaining: "0" },
    ]);
    expect(await backendCount(id)).toMatchObject({ calls: 5, throttled: 3 });
    // A client cannot unmark its call (any X-Ekm-* it sends is removed, also spelled with underscores).
    const forged = await callApi(caller.path(unique("forged")), await appToken(caller.app.keys.PRODUCTION), {
      headers: { "X-Ekm-Throttled": "false", X_Ekm_Throttled: "false" },
    });
    expect(((await forged.json()) as { headers: Record<string, string> }).headers["x-ekm-throttled"]).toBe(
      "true",
    );
  });

  it("does not count refused calls (401, 403, 404), nor a 429's permit at the other level", async () => {
    const caller = await tieredCaller({ subscriptionTier: "Silver", applicationTier: "Bronze" });
    await adminJson("PATCH", `/applications/${caller.app.id}`, { allowedDomains: ["wso2.com"] });
    const id = unique("refused");
    const ok = { headers: { domain: "wso2.com" } };
    for (let i = 0; i < 4; i++) {
      const statuses = [
        await callApi(caller.path(id), caller.token, { headers: { domain: "evil.com" } }),
        await callApi(caller.path(id), `${caller.token}x`, ok),
        await callApi(caller.path(id), null, ok),
        await callApi(`/nowhere${i}/1.0/x`, caller.token, ok),
      ];
      expect(statuses.map((response) => response.status)).toEqual([403, 401, 401, 404]);
      for (const response of statuses) await response.arrayBuffer();
    }
    // Bronze at the application level: one call, then 429 (its subscription permit is given back).
    expect(await callSequentially(caller.path(id), caller.token, 1, ok)).toEqual([200]);
    for (let i = 0; i < 3; i++) {
      const refused = await callApi(caller.path(id), caller.token, ok);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ level: "application", tier: "Bronze" });
    }
    // The application moves to Gold: the next call applies it, and Silver has 4 calls left, not fewer.
    await adminJson("PATCH", `/applications/${caller.app.id}`, { tier: "Gold" });
    expect(await callSequentially(caller.path(id), caller.token, 6, ok)).toEqual([
      200, 200, 200, 200, 429, 429,
    ]);
    expect((await backendCount(id)).calls).toBe(5);
  });

  it("applies a tier change on the next call: the subscription's tier, and the tier's own limits", async () => {
    const tier = await createTier(1, 60);
    const caller = await tieredCaller({ subscriptionTier: tier });
    const id = unique("change");
    expect(await callSequentially(caller.path(id), caller.token, 2)).toEqual([200, 429]);
    await adminJson("PATCH", `/tiers/${tier}`, { requestCount: 3 });
    expect(await callSequentially(caller.path(id), caller.token, 3)).toEqual([200, 200, 429]);
    await adminJson("PATCH", `/subscriptions/${caller.subscription.id}`, { tier: "Unlimited" });
    expect(await callSequentially(caller.path(id), caller.token, 3)).toEqual([200, 200, 200]);
    await adminJson("PATCH", `/subscriptions/${caller.subscription.id}`, { tier: "Bronze" });
    // The window already holds 3 counted calls: Bronze's one is spent.
    expect(await callSequentially(caller.path(id), caller.token, 1)).toEqual([429]);
    await adminJson("PATCH", `/tiers/${tier}`, { stopOnQuotaReach: false });
    await adminJson("PATCH", `/subscriptions/${caller.subscription.id}`, { tier });
    const soft = await callApi(caller.path(id), caller.token);
    expect(soft.status).toBe(200);
    expect(((await soft.json()) as { headers: Record<string, string> }).headers["x-ekm-throttled"]).toBe(
      "true",
    );
    expect((await admin("DELETE", `/tiers/${tier}`)).status).toBe(409);
  });

  it("frees the window after unitTime: calls pass again", async () => {
    const tier = await createTier(2, 1);
    const caller = await tieredCaller({ subscriptionTier: tier });
    const id = unique("window");
    expect(await callSequentially(caller.path(id), caller.token, 3)).toEqual([200, 200, 429]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await callSequentially(caller.path(id), caller.token, 3)).toEqual([200, 200, 429]);
    expect((await backendCount(id)).calls).toBe(4);
  });
});

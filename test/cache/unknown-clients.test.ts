import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { callApi, countDurableObjectCalls, subscribedCaller } from "../gateway/gateway-helpers";
import { postForm } from "../helpers";

afterEach(() => {
  vi.useRealTimers();
});

/** A well-formed consumer key nobody was ever given. */
function madeUpKey(): string {
  return `fake${crypto.randomUUID().replaceAll("-", "")}`;
}

function tokenWithMadeUpKey(consumerKey: string) {
  return postForm(
    "/token",
    { grant_type: "client_credentials" },
    { Authorization: `Basic ${btoa(`${consumerKey}:x`)}` },
  );
}

/**
 * Another isolate has none of this one's memory. The in-isolate negative caches last 5 s, so moving the clock
 * past them leaves only what is shared across isolates: KV.
 */
function beAnotherIsolate(): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + 6_000);
}

async function markerWritten(consumerKey: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await env.VALIDATION_CACHE.get(kvKeys.unknownClient(consumerKey))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("no unknown-client marker in KV");
}

describe("unknown consumer keys are remembered in KV (one registry call per key, not per request)", () => {
  it("/token: a made-up key reaches the registry once, also from another isolate", async () => {
    const key = madeUpKey();
    const counter = await countDurableObjectCalls();
    try {
      const first = await tokenWithMadeUpKey(key);
      expect(first.status).toBe(401);
      expect(counter.registry).toBe(1);
      await markerWritten(key);
      beAnotherIsolate();
      for (let i = 0; i < 5; i++) {
        const again = await tokenWithMadeUpKey(key);
        expect(again.status).toBe(401);
        expect(((await again.json()) as { error: string }).error).toBe("invalid_client");
      }
      expect(counter.registry).toBe(1);
    } finally {
      await counter.stop();
    }
  });

  it("gateway: a token naming a made-up key reaches the registry once, also from another isolate", async () => {
    const { path } = await subscribedCaller();
    const key = madeUpKey();
    const forged = `${key}.0.${"A".repeat(43)}`;
    expect((await callApi(path, forged)).status).toBe(401);
    await markerWritten(key);
    const counter = await countDurableObjectCalls();
    try {
      beAnotherIsolate();
      for (let i = 0; i < 5; i++) {
        const response = await callApi(path, forged);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toContain("invalid_token");
      }
      expect(counter.registry).toBe(0);
      expect(counter.shard).toBe(0);
    } finally {
      await counter.stop();
    }
  });

  it("a real key is never shadowed: the marker is only written for keys the registry does not know", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    expect((await callApi(path, accessToken)).status).toBe(200);
    expect(await env.VALIDATION_CACHE.get(kvKeys.unknownClient(app.keys.PRODUCTION.consumerKey))).toBeNull();
  });
});

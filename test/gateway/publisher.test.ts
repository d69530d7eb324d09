import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyFacts } from "../../src/cache/facts";
import { kvKeys } from "../../src/core/cache-keys";
import { registryStub } from "../../src/durable/names";
import { admin, createApp, env } from "../helpers";
import { appToken, callApi, createApi, echoOf, subscribe } from "./gateway-helpers";

const registry = () => registryStub(env);

/** Makes the next gateway miss of a key fill KV again: drops the entry and the registry's note that it wrote it. */
async function forgetKeyFacts(consumerKey: string): Promise<void> {
  await env.VALIDATION_CACHE.delete(kvKeys.gatewayKey(consumerKey));
  await runInDurableObject(registry(), (instance) => {
    (instance as unknown as { gateway: { written: Map<string, number> } }).gateway.written.clear();
  });
}

describe("gateway cache publisher (in the registry)", () => {
  it("answers many misses of one key with its current facts, and fills KV", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const consumerKey = app.keys.PRODUCTION.consumerKey;
    await forgetKeyFacts(consumerKey);
    const answers = await Promise.all(Array.from({ length: 10 }, () => registry().gatewayKey(consumerKey)));
    for (const facts of answers) expect(facts?.subscriptions).toEqual({ [api.id]: "Unlimited" });
    let stored: KeyFacts | null = null;
    for (let i = 0; i < 50 && !stored; i++) {
      stored = await env.VALIDATION_CACHE.get<KeyFacts>(kvKeys.gatewayKey(consumerKey), "json");
      if (!stored) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(stored?.subscriptions).toEqual({ [api.id]: "Unlimited" });
    expect(await registry().gatewayKey("no-such-consumer-key")).toBeNull();
  });

  it("never lets a fill racing an unsubscription write the old facts back", async () => {
    const api = await createApi();
    const app = await createApp();
    const consumerKey = app.keys.PRODUCTION.consumerKey;
    const accessToken = await appToken(app.keys.PRODUCTION);
    const path = `${api.context}/1.0.0`;
    for (let round = 0; round < 5; round++) {
      const subscription = await subscribe(app, api);
      await echoOf(await callApi(path, accessToken));
      await forgetKeyFacts(consumerKey);
      // Gateway misses (each asks the registry, which fills KV) race the unsubscription.
      const racing = Array.from({ length: 8 }, () => callApi(path, accessToken));
      const removed = await admin("DELETE", `/subscriptions/${subscription.id}`);
      expect(removed.status).toBe(204);
      for (const response of await Promise.all(racing)) {
        expect([200, 403]).toContain(response.status);
        await response.body?.cancel();
      }
      // Every call after the unsubscription returned is refused, now and after the queued fills ran.
      for (let i = 0; i < 3; i++) {
        const response = await callApi(path, accessToken);
        expect(response.status, `round ${round}`).toBe(403);
        await response.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const stored = await env.VALIDATION_CACHE.get<KeyFacts>(kvKeys.gatewayKey(consumerKey), "json");
      expect(stored?.subscriptions ?? {}).toEqual({});
    }
  });
});

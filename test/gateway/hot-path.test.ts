import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable/names";
import app from "../../src/index";
import { adminJson } from "../helpers";
import { createTier } from "../throttle/throttle-helpers";
import { subscribedCaller, validationCached } from "./gateway-helpers";

/**
 * The Worker's bindings with every KV read and Durable Object call counted: the real KV namespace and the real
 * Durable Object namespaces, each wrapped (nothing is answered by the wrapper itself).
 */
function countedBindings(vars: Record<string, string>) {
  const counts = { kvGets: 0, kvKeys: 0, kvKeyNames: [] as string[], durableObjectCalls: 0 };
  const kv = env.VALIDATION_CACHE;
  const countedKv = Object.assign(Object.create(kv), {
    get: (names: string | string[], options?: unknown) => {
      counts.kvGets += 1;
      const list = Array.isArray(names) ? names : [names];
      counts.kvKeys += list.length;
      counts.kvKeyNames.push(...list.map((name) => name.split(":")[0] ?? name));
      return (kv.get as (n: unknown, o?: unknown) => Promise<unknown>)(names, options);
    },
  });
  const countedNamespace = <N extends object>(namespace: N): N =>
    Object.assign(Object.create(namespace), {
      idFromName: (name: string) => (namespace as unknown as DurableObjectNamespace).idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = (namespace as unknown as DurableObjectNamespace).get(id) as unknown as Record<
          string,
          (...args: unknown[]) => unknown
        >;
        return new Proxy(
          {},
          {
            get(_target, property) {
              if (typeof property !== "string" || property === "then") return undefined;
              return (...args: unknown[]) => {
                counts.durableObjectCalls += 1;
                return (stub[property] as (...a: unknown[]) => unknown)(...args);
              };
            },
          },
        );
      },
    });
  const bindings = {
    ...env,
    ...vars,
    VALIDATION_CACHE: countedKv,
    REGISTRY: countedNamespace(env.REGISTRY),
    CLIENT_SHARDS: countedNamespace(env.CLIENT_SHARDS),
    SIGNING_KEYS: countedNamespace(env.SIGNING_KEYS),
    THROTTLE_COUNTERS: countedNamespace(env.THROTTLE_COUNTERS),
  };
  const fetch = async (path: string, token: string) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request(`http://localhost:8787${path}`, { headers: { Authorization: `Bearer ${token}` } }),
      bindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  };
  const reset = () => {
    counts.kvGets = 0;
    counts.kvKeys = 0;
    counts.kvKeyNames = [];
    counts.durableObjectCalls = 0;
  };
  return { counts, fetch, reset };
}

async function warmCalls(
  gateway: ReturnType<typeof countedBindings>,
  path: string,
  token: string,
  n: number,
) {
  for (let i = 0; i < n; i++) {
    const response = await gateway.fetch(`${path}/warm${i}`, token);
    expect(response.status, await response.clone().text()).toBe(200);
    await response.arrayBuffer();
  }
}

describe("the gateway's hot path", () => {
  it("a warm Unlimited call reads one KV key and calls no Durable Object", async () => {
    const { accessToken, path } = await subscribedCaller();
    const gateway = countedBindings({ GATEWAY_FACTS_REFRESH: "60" });
    await warmCalls(gateway, path, accessToken, 2);
    await validationCached(accessToken);
    gateway.reset();
    await warmCalls(gateway, path, accessToken, 20);
    console.log(
      `HOT_PATH_UNLIMITED ${JSON.stringify({ calls: 20, ...gateway.counts, kvKeyNames: undefined })}`,
    );
    expect(gateway.counts.kvGets).toBe(20);
    expect(gateway.counts.kvKeys).toBe(20);
    expect(new Set(gateway.counts.kvKeyNames)).toEqual(new Set(["token"]));
    expect(gateway.counts.durableObjectCalls).toBe(0);
  });

  it("reads the facts' version with the token's entry once per GATEWAY_FACTS_REFRESH, in the same KV read", async () => {
    const { accessToken, path } = await subscribedCaller();
    const gateway = countedBindings({ GATEWAY_FACTS_REFRESH: "0" });
    await warmCalls(gateway, path, accessToken, 2);
    await validationCached(accessToken);
    gateway.reset();
    await warmCalls(gateway, path, accessToken, 10);
    // 0: every call checks the version, still in one KV operation (two keys).
    expect(gateway.counts.kvGets).toBe(10);
    expect(gateway.counts.kvKeys).toBe(20);
    expect(gateway.counts.durableObjectCalls).toBe(0);
  });

  it("a warm call of a limited tier far from its limit: one KV key, a counter call only now and then", async () => {
    const tier = await createTier(1_000_000, 3600);
    const { app: application, accessToken, path } = await subscribedCaller();
    await adminJson("PATCH", `/applications/${application.id}`, { tier });
    const gateway = countedBindings({ GATEWAY_FACTS_REFRESH: "60" });
    await warmCalls(gateway, path, accessToken, 5);
    await validationCached(accessToken);
    gateway.reset();
    await warmCalls(gateway, path, accessToken, 50);
    console.log(
      `HOT_PATH_LIMITED ${JSON.stringify({ calls: 50, ...gateway.counts, kvKeyNames: undefined })}`,
    );
    expect(gateway.counts.kvKeys).toBe(50);
    expect(gateway.counts.durableObjectCalls / 50).toBeLessThanOrEqual(0.1);
  });
});

describe("admin facts held in isolate memory are versioned", () => {
  it("a change this isolate did not serve applies once the version is read (GATEWAY_FACTS_REFRESH)", async () => {
    const { api, app: application, accessToken, path } = await subscribedCaller();
    const subscriptions = await adminJson<Array<{ id: string }>>(
      "GET",
      `/subscriptions?applicationId=${application.id}&apiId=${api.id}`,
    );
    const lazy = countedBindings({ GATEWAY_FACTS_REFRESH: "3600" });
    const eager = countedBindings({ GATEWAY_FACTS_REFRESH: "0" });
    await warmCalls(eager, path, accessToken, 2);
    await validationCached(accessToken);
    // The change reaches the registry (and KV) without passing through this isolate's admin API, as a change
    // made in another isolate would.
    const removed = await registryStub(env).deleteSubscription(subscriptions[0]?.id as string);
    expect(removed.ok).toBe(true);
    // Not checking the version, this isolate still holds the old facts: the bound, not a guarantee.
    const stale = await lazy.fetch(`${path}/stale`, accessToken);
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
    // Reading the version with the token's entry, it drops them and applies the change on that very call.
    const fresh = await eager.fetch(`${path}/fresh`, accessToken);
    expect(fresh.status).toBe(403);
    expect(await fresh.json()).toMatchObject({ reason: "not_subscribed" });
  });
});

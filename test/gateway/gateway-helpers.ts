import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { hashSecret } from "../../src/crypto/secrets";
import { registryStub, shardStub, userStoreOf } from "../../src/durable/names";
import app from "../../src/index";
import { adminJson, basic, call, createApp, type Keys, type TestApp, token, unique } from "../helpers";

/** Origin of the real node:http backend started by test/gateway/global-setup.ts. */
export const backend = (): string => inject("gatewayBackend");

export interface TestApi {
  id: string;
  name: string;
  context: string;
  version: string;
  productionEndpoint: string;
  sandboxEndpoint: string | null;
  corsOrigins: string | string[] | null;
}

/** A published API whose endpoints are the backend's `/prod` and `/sandbox` (or none for sandbox). */
export async function createApi(
  options: { sandbox?: boolean; context?: string; corsOrigins?: string[] } = {},
): Promise<TestApi> {
  return adminJson<TestApi>("POST", "/apis", {
    name: unique("api"),
    context: options.context ?? unique("ctx"),
    version: "1.0.0",
    productionEndpoint: `${backend()}/prod`,
    ...(options.sandbox === false ? {} : { sandboxEndpoint: `${backend()}/sandbox` }),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
  });
}

export async function subscribe(app: TestApp, api: TestApi): Promise<{ id: string }> {
  return adminJson<{ id: string }>("POST", "/subscriptions", { applicationId: app.id, apiId: api.id });
}

/** An application token (client_credentials) of the given key. */
export async function appToken(keys: Keys): Promise<string> {
  const result = await token(keys, { grant_type: "client_credentials" });
  if (result.status !== 200) throw new Error(`token: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.access_token;
}

/** An API, an application subscribed to it, and a PRODUCTION application token. */
export async function subscribedCaller(
  appOptions: Record<string, unknown> = {},
  apiOptions: Parameters<typeof createApi>[0] = {},
) {
  const api = await createApi(apiOptions);
  const app = await createApp(appOptions);
  await subscribe(app, api);
  const accessToken = await appToken(app.keys.PRODUCTION);
  return { api, app, accessToken, path: `${api.context}/${api.version}` };
}

export function callApi(path: string, accessToken: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (accessToken !== null) headers.set("Authorization", `Bearer ${accessToken}`);
  return call(path, { ...init, headers });
}

/** What the backend echoed: the request it received. */
export interface Echo {
  backend: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySha256: string;
}

export async function echoOf(response: Response): Promise<Echo> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`expected the backend's 200, got ${response.status}: ${text}`);
  return JSON.parse(text) as Echo;
}

/**
 * The Worker with other configuration (same KV and Durable Objects): for GATEWAY_CACHE_TTL,
 * CLIENT_DOMAIN_HEADER and REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE variants.
 */
export async function callWithVars(
  vars: Record<string, string>,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://localhost:8787${path}`, init),
    { ...env, ...vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** Waits until the gateway's validation of `accessToken` is in KV (it is written after the response). */
export async function validationCached(accessToken: string): Promise<Record<string, unknown>> {
  const key = kvKeys.validation(await hashSecret(accessToken));
  for (let i = 0; i < 100; i++) {
    const entry = await env.VALIDATION_CACHE.get<Record<string, unknown>>(key, "json");
    if (entry) return entry;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the validation was never cached");
}

export interface CallCounter {
  /** Method calls that reached any ClientShard / the Registry / any UserStore since counting began. */
  shard: number;
  registry: number;
  userStore: number;
  stop(): Promise<void>;
}

/**
 * Counts calls reaching the Durable Objects, by wrapping the methods of the real classes' prototypes (reached
 * through live instances with runInDurableObject). Every RPC into any shard or the registry is counted.
 */
export async function countDurableObjectCalls(): Promise<CallCounter> {
  const counter = { shard: 0, registry: 0, userStore: 0 };
  const restores: Array<() => void> = [];
  const wrap = (prototype: Record<string, unknown>, bump: () => void) => {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const original = prototype[name];
      if (name === "constructor" || typeof original !== "function") continue;
      prototype[name] = function (this: unknown, ...args: unknown[]) {
        bump();
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      };
      restores.push(() => {
        prototype[name] = original;
      });
    }
  };
  const shard = shardStub(env, { consumerKey: "call-counter-probe", shard: 0 });
  await runInDurableObject(shard, (instance) => {
    wrap(Object.getPrototypeOf(instance), () => {
      counter.shard += 1;
    });
  });
  // Before the registry is wrapped: a user store's first start asks the registry for its old users.
  // Every user store shares one class, hence one prototype: wrapping it through one counts them all.
  await runInDurableObject(userStoreOf(env, "call-counter-probe"), (instance) => {
    wrap(Object.getPrototypeOf(instance), () => {
      counter.userStore += 1;
    });
  });
  const registry = registryStub(env);
  await runInDurableObject(registry, (instance) => {
    wrap(Object.getPrototypeOf(instance), () => {
      counter.registry += 1;
    });
  });
  return Object.assign(counter, {
    async stop() {
      for (const restore of restores.reverse()) restore();
    },
  });
}

export { basic, env };

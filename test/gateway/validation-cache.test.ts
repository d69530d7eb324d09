import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { parseTokenRoute } from "../../src/core/token-format";
import { hashSecret } from "../../src/crypto/secrets";
import { shardStub } from "../../src/durable/names";
import { admin, adminJson, basic, createApp, createUser, env, passwordToken, postForm } from "../helpers";
import {
  appToken,
  type CallCounter,
  callApi,
  callWithVars,
  countDurableObjectCalls,
  createApi,
  echoOf,
  subscribe,
  subscribedCaller,
  validationCached,
} from "./gateway-helpers";

let counter: CallCounter | null = null;
afterEach(async () => {
  await counter?.stop();
  counter = null;
});

async function revoke(
  keys: { consumerKey: string; consumerSecret: string },
  token: string,
): Promise<Response> {
  return postForm("/revoke", { token }, { Authorization: basic(keys) });
}

async function refreshPair(
  keys: { consumerKey: string; consumerSecret: string },
  refreshToken: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const response = await postForm(
    "/token",
    { grant_type: "refresh_token", refresh_token: refreshToken },
    { Authorization: basic(keys) },
  );
  const body = (await response.json()) as { access_token: string; refresh_token: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function expectRefused(response: Response, status = 401): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  if (status === 401) expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
}

describe("gateway validation cache", () => {
  it("serves a warm call from KV without calling any Durable Object", async () => {
    const { accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    const entry = await validationCached(accessToken);
    // Token-level facts only, under the token's hash; never the token itself.
    expect(entry).toMatchObject({
      keyType: "PRODUCTION",
      isApplicationToken: true,
      user: "admin@carbon.super",
    });
    expect(JSON.stringify(entry)).not.toContain(accessToken);

    counter = await countDurableObjectCalls();
    for (let i = 0; i < 5; i++) await echoOf(await callApi(`${path}/hit${i}`, accessToken));
    expect({ shard: counter.shard, registry: counter.registry }).toEqual({ shard: 0, registry: 0 });
  });

  it("asks the token's shard on a miss, then caches: the next call asks no Durable Object", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    const hash = await hashSecret(accessToken);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(hash))).toBeNull();
    counter = await countDurableObjectCalls();
    await echoOf(await callApi(path, accessToken));
    expect(counter.shard).toBe(1);
    // What is cached: the token's facts under its hash, for the token's key and owner.
    expect(await validationCached(accessToken)).toMatchObject({
      consumerKey: app.keys.PRODUCTION.consumerKey,
      keyType: "PRODUCTION",
      user: "admin@carbon.super",
      isApplicationToken: true,
    });
    await echoOf(await callApi(path, accessToken));
    expect({ shard: counter.shard, registry: counter.registry }).toEqual({ shard: 1, registry: 0 });
  });

  it("refuses a revoked token on the very next call, though it was cached", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    await validationCached(accessToken);

    const revoked = await revoke(app.keys.PRODUCTION, accessToken);
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get("RevokedAccessToken")).toBe(accessToken);
    await expectRefused(await callApi(path, accessToken));
    // What is stored: a revocation marker under the token's hash.
    const hash = await hashSecret(accessToken);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(hash), "json")).toMatchObject({
      revokedAt: expect.any(Number),
    });
  });

  it("refuses the access token at once when its refresh token is revoked", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const path = `${api.context}/1.0.0`;
    await echoOf(await callApi(path, pair.access_token));
    await validationCached(pair.access_token);
    await revoke(app.keys.PRODUCTION, pair.refresh_token as string);
    await expectRefused(await callApi(path, pair.access_token));
  });

  it("refuses the old access token at once after a refresh rotated it", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const path = `${api.context}/1.0.0`;
    await echoOf(await callApi(path, pair.access_token));
    await validationCached(pair.access_token);
    const refreshed = await postForm(
      "/token",
      { grant_type: "refresh_token", refresh_token: pair.refresh_token as string },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string };
    await expectRefused(await callApi(path, pair.access_token));
    await echoOf(await callApi(path, next.access_token));
  });

  it("refuses a cached access token at once after refresh-token reuse revoked its family (RFC 9700 §4.14.2)", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const user = await createUser();
    const keys = app.keys.PRODUCTION;
    const first = await passwordToken(keys, user);
    const path = `${api.context}/1.0.0`;
    const second = await refreshPair(keys, first.refresh_token as string);
    const third = await refreshPair(keys, second.refresh_token as string);
    await echoOf(await callApi(path, third.access_token));
    await validationCached(third.access_token);
    // The first refresh token comes back after its successor was used: reuse, the family is revoked.
    const reuse = await postForm(
      "/token",
      { grant_type: "refresh_token", refresh_token: first.refresh_token as string },
      { Authorization: basic(keys) },
    );
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: "invalid_grant" });
    await expectRefused(await callApi(path, third.access_token));
    const hash = await hashSecret(third.access_token);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(hash), "json")).toMatchObject({
      revokedAt: expect.any(Number),
    });
  });

  it("refuses a user's cached tokens at once after a password change, and after the user's deletion", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const user = await createUser();
    const bystander = await createUser();
    const path = `${api.context}/1.0.0`;
    const before = await passwordToken(app.keys.PRODUCTION, user);
    const other = await passwordToken(app.keys.PRODUCTION, bystander);
    for (const value of [before.access_token, other.access_token]) {
      await echoOf(await callApi(path, value));
      await validationCached(value);
    }
    expect((await admin("PATCH", `/users/${user.username}`, { password: "changed-Passw0rd" })).status).toBe(
      200,
    );
    await expectRefused(await callApi(path, before.access_token));

    const after = await passwordToken(app.keys.PRODUCTION, {
      username: user.username,
      password: "changed-Passw0rd",
    });
    await echoOf(await callApi(path, after.access_token));
    await validationCached(after.access_token);
    expect((await admin("DELETE", `/users/${user.username}`)).status).toBe(204);
    await expectRefused(await callApi(path, after.access_token));
    // Another user's token is untouched.
    await echoOf(await callApi(path, other.access_token));
  });

  it("lets no late cache fill resurrect a revoked token", async () => {
    // The shard writes a token's validation after answering the gateway. Here that write is slowed down (a KV
    // binding that waits before each put, on the real KV) and the token is revoked while it is under way: the
    // revocation must answer only after it, so that its marker is the last write of the token's key.
    const { app, accessToken, path } = await subscribedCaller();
    const route = parseTokenRoute(accessToken);
    if (!route) throw new Error("bad token");
    const events: string[] = [];
    const restore = await runInDurableObject(shardStub(env, route), (instance) => {
      const bindings = (instance as unknown as { env: { VALIDATION_CACHE: KVNamespace } }).env;
      const real = bindings.VALIDATION_CACHE;
      const put = async (...args: Parameters<KVNamespace["put"]>) => {
        // Locally the Worker and its objects share one set of bindings: the revocation's marker comes here too.
        const what = String(args[1]).includes("revokedAt") ? "marker" : "fill";
        events.push(`${what} started`);
        if (what === "fill") await new Promise((resolve) => setTimeout(resolve, 300));
        await real.put(...args);
        events.push(`${what} written`);
      };
      // Every other method is the real binding's, called on it (a binding's methods refuse any other `this`).
      bindings.VALIDATION_CACHE = new Proxy(real, {
        get(target, name) {
          if (name === "put") return put;
          const value = Reflect.get(target, name);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      return () => {
        bindings.VALIDATION_CACHE = real;
      };
    });
    try {
      await echoOf(await callApi(path, accessToken));
      expect(events).toEqual(["fill started"]);
      const revoked = await revoke(app.keys.PRODUCTION, accessToken);
      events.push("revoke answered");
      expect(revoked.headers.get("RevokedAccessToken")).toBe(accessToken);
    } finally {
      await runInDurableObject(shardStub(env, route), () => restore());
    }
    expect(events).toEqual([
      "fill started",
      "fill written",
      "marker started",
      "marker written",
      "revoke answered",
    ]);
    const hash = await hashSecret(accessToken);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(hash), "json")).toEqual({
      revokedAt: expect.any(Number),
    });
    await expectRefused(await callApi(path, accessToken));
  });

  it("refuses an expired token even while its cache entry is alive", async () => {
    const { accessToken, path } = await subscribedCaller({ accessTokenValidity: 2 });
    await echoOf(await callApi(path, accessToken));
    const entry = await validationCached(accessToken);
    expect(entry.expiresAt).toEqual(expect.any(Number));
    // The entry is trusted until the token's expiry at the latest, whatever KV's 60 s minimum keeps it for.
    expect(entry.staleAt).toBeLessThanOrEqual(entry.expiresAt as number);
    await new Promise((resolve) => setTimeout(resolve, (entry.expiresAt as number) - Date.now() + 50));

    const hash = await hashSecret(accessToken);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(hash))).not.toBeNull();
    // Even an entry claiming to be fresh is not trusted past the token's expiry.
    await env.VALIDATION_CACHE.put(
      kvKeys.validation(hash),
      JSON.stringify({ ...entry, staleAt: Date.now() + 600_000 }),
      { expirationTtl: 600 },
    );
    await expectRefused(await callApi(path, accessToken));
  });

  it("caches a never-expiring token for the TTL only", async () => {
    const { accessToken, path } = await subscribedCaller({ accessTokenValidity: -1 });
    const before = Date.now();
    await echoOf(await callApi(path, accessToken));
    const entry = await validationCached(accessToken);
    expect(entry.expiresAt).toBeNull();
    expect(entry.staleAt).toBeGreaterThanOrEqual(before + 900_000);
    expect(entry.staleAt).toBeLessThanOrEqual(Date.now() + 900_000);
  });

  it("GATEWAY_CACHE_TTL=0 disables the cache: every call asks the shard, nothing is written", async () => {
    const { accessToken, path } = await subscribedCaller();
    const vars = { GATEWAY_CACHE_TTL: "0" };
    const init = { headers: { Authorization: `Bearer ${accessToken}` } };
    counter = await countDurableObjectCalls();
    await echoOf(await callWithVars(vars, path, init));
    await echoOf(await callWithVars(vars, path, init));
    expect(counter.shard).toBe(2);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(await hashSecret(accessToken)))).toBeNull();
  });

  it("honours a TTL below KV's 60 s minimum: the entry is not used after it", async () => {
    const { accessToken, path } = await subscribedCaller();
    const vars = { GATEWAY_CACHE_TTL: "1" };
    const init = { headers: { Authorization: `Bearer ${accessToken}` } };
    await echoOf(await callWithVars(vars, path, init));
    const entry = await validationCached(accessToken);
    expect((entry.staleAt as number) - Date.now()).toBeLessThanOrEqual(1000);
    counter = await countDurableObjectCalls();
    await echoOf(await callWithVars(vars, path, init));
    expect(counter.shard).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, (entry.staleAt as number) - Date.now() + 20));
    await echoOf(await callWithVars(vars, path, init));
    expect(counter.shard).toBe(1);
  });

  it("serves parallel calls and refuses every call made after a revocation returns", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    const before = await Promise.all(
      Array.from({ length: 20 }, (_, i) => callApi(`${path}/p${i}`, accessToken)),
    );
    for (const response of before) await echoOf(response);

    const during = Array.from({ length: 20 }, (_, i) => callApi(`${path}/d${i}`, accessToken));
    const revoked = await revoke(app.keys.PRODUCTION, accessToken);
    expect(revoked.headers.get("RevokedAccessToken")).toBe(accessToken);
    for (const response of await Promise.all(during)) {
      // Calls racing the revocation may go either way, but never anything else.
      expect([200, 401]).toContain(response.status);
      await response.body?.cancel();
    }
    const after = await Promise.all(
      Array.from({ length: 20 }, (_, i) => callApi(`${path}/a${i}`, accessToken)),
    );
    for (const response of after) await expectRefused(response);
  });
});

describe("gateway application-level facts follow admin changes at once", () => {
  it("an unsubscribed application is refused on the next call", async () => {
    const api = await createApi();
    const app = await createApp();
    const subscription = await subscribe(app, api);
    const accessToken = await appToken(app.keys.PRODUCTION);
    const path = `${api.context}/1.0.0`;
    await echoOf(await callApi(path, accessToken));
    await validationCached(accessToken);
    counter = await countDurableObjectCalls();
    await echoOf(await callApi(path, accessToken));
    expect(counter.shard + counter.registry).toBe(0);
    await counter.stop();

    expect((await admin("DELETE", `/subscriptions/${subscription.id}`)).status).toBe(204);
    const response = await callApi(path, accessToken);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ reason: "not_subscribed" });

    await subscribe(app, api);
    await echoOf(await callApi(path, accessToken));
  });

  it("a deleted API is gone (404) on the next call; an updated endpoint is used at once", async () => {
    const { api, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    const updated = await adminJson("PATCH", `/apis/${api.id}`, {
      productionEndpoint: api.productionEndpoint.replace(/\/prod$/, "/moved"),
    });
    expect(updated).toMatchObject({ productionEndpoint: expect.stringMatching(/\/moved$/) });
    expect((await echoOf(await callApi(path, accessToken))).backend).toBe("moved");

    expect((await admin("DELETE", `/apis/${api.id}`)).status).toBe(204);
    const response = await callApi(path, accessToken);
    expect(response.status).toBe(404);
  });

  it("a changed context moves the API at once", async () => {
    const { api, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    const context = `moved${Date.now()}`;
    await adminJson("PATCH", `/apis/${api.id}`, { context });
    expect((await callApi(path, accessToken)).status).toBe(404);
    await echoOf(await callApi(`/${context}/1.0.0`, accessToken));
  });

  it("new allowed domains apply to the next call", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken, { headers: { domain: "evil.com" } }));
    await validationCached(accessToken);
    await adminJson("PATCH", `/applications/${app.id}`, { allowedDomains: ["wso2.com"] });
    const refused = await callApi(path, accessToken, { headers: { domain: "evil.com" } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ reason: "domain_not_allowed" });
    await echoOf(await callApi(path, accessToken, { headers: { domain: "wso2.com" } }));
  });

  it("a renamed application reaches the backend under its new name", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    const name = `renamed-${Date.now()}`;
    await adminJson("PATCH", `/applications/${app.id}`, { name });
    expect((await echoOf(await callApi(path, accessToken))).headers["x-ekm-application-name"]).toBe(name);
  });

  it("a deleted application's tokens are refused on the next call", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    await validationCached(accessToken);
    expect((await admin("DELETE", `/applications/${app.id}`)).status).toBe(204);
    await expectRefused(await callApi(path, accessToken));
    expect(await env.VALIDATION_CACHE.get(kvKeys.gatewayKey(app.keys.PRODUCTION.consumerKey))).toBeNull();
  });

  it("a regenerated secret ends the key's tokens at the gateway at once", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    await validationCached(accessToken);
    await adminJson("POST", `/applications/${app.id}/keys/PRODUCTION/regenerate-secret`);
    await expectRefused(await callApi(path, accessToken));
  });

  it("a regenerated application token replaces the old one at the gateway at once", async () => {
    const { app, accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    await validationCached(accessToken);
    const fresh = await adminJson<{ access_token: string }>(
      "POST",
      `/applications/${app.id}/keys/PRODUCTION/regenerate-token`,
    );
    await expectRefused(await callApi(path, accessToken));
    await echoOf(await callApi(path, fresh.access_token));
  });

  it("keeps the facts of a consumer key in KV, written by the registry", async () => {
    const { api, app, accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    await echoOf(await callApi(path, accessToken, { headers: { domain: "wso2.com" } }));
    const facts = await env.VALIDATION_CACHE.get<Record<string, unknown>>(
      kvKeys.gatewayKey(app.keys.PRODUCTION.consumerKey),
      "json",
    );
    expect(facts).toMatchObject({
      applicationId: app.id,
      allowedDomains: ["wso2.com"],
      subscriptions: { [api.id]: "Unlimited" },
    });
    const routes = await env.VALIDATION_CACHE.get<{ apis: Array<{ id: string }> }>(
      kvKeys.gatewayApis(),
      "json",
    );
    expect(routes?.apis.map((entry) => entry.id)).toContain(api.id);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { hashSecret } from "../../src/crypto/secrets";
import { shardStub } from "../../src/durable/names";
import { call, createApp, createUser, env, passwordToken, refresh } from "../helpers";
import { authorizeCode, CALLBACK, redeem } from "../oauth/authorize-flow";
import {
  appToken,
  backend,
  callApi,
  callWithVars,
  countDurableObjectCalls,
  createApi,
  echoOf,
  subscribe,
  subscribedCaller,
} from "./gateway-helpers";

async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(await response.json()).toMatchObject({ error: "invalid_token" });
}

describe("gateway authorization (RFC 6750)", () => {
  it("answers a call without a token with 401 and a bare Bearer challenge", async () => {
    const { path } = await subscribedCaller();
    const variants: Array<Record<string, string>> = [
      {},
      { Authorization: "Basic YTpi" },
      { Authorization: "Bearer " },
    ];
    for (const headers of variants) {
      const response = await call(path, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(await response.json()).toMatchObject({ error: "missing_token" });
    }
  });

  it("refuses tokens that are not ours, unknown, or name a shard the key does not have", async () => {
    const { app, accessToken, path } = await subscribedCaller({ shards: 2 });
    const [consumerKey, , random] = accessToken.split(".") as [string, string, string];
    const candidates = [
      "xxx",
      "not a token at all",
      `${consumerKey}.0.${"A".repeat(43)}`,
      `${consumerKey}.5.${random}`,
      `unknownconsumerkey1.0.${random}`,
      app.keys.PRODUCTION.consumerSecret,
    ];
    for (const candidate of candidates) await expectInvalidToken(await callApi(path, candidate));
    // The real token still works.
    await echoOf(await callApi(path, accessToken));
  });

  it("accepts the scheme name in any case (RFC 7235 §2.1)", async () => {
    const { accessToken, path } = await subscribedCaller();
    await echoOf(await call(path, { headers: { Authorization: `bearer ${accessToken}` } }));
  });

  it("refuses with 403 insufficient_scope an application not subscribed to the API", async () => {
    const api = await createApi();
    const other = await createApi();
    const app = await createApp();
    await subscribe(app, other);
    const response = await callApi(`${api.context}/1.0.0/x`, await appToken(app.keys.PRODUCTION));
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope"');
    expect(await response.json()).toMatchObject({ error: "insufficient_scope", reason: "not_subscribed" });
  });

  it("lets any domain call a key without allowed domains, header or not", async () => {
    const { accessToken, path } = await subscribedCaller();
    await echoOf(await callApi(path, accessToken));
    await echoOf(await callApi(path, accessToken, { headers: { domain: "anything.example" } }));
  });

  it("admits only the allowed domains named in the domain header (WSO2's documented -H 'domain: wso2.com')", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com", "example.org"] });
    await echoOf(
      await callApi(`${path}/search.atom?q=cat`, accessToken, { headers: { domain: "wso2.com" } }),
    );
    await echoOf(await callApi(path, accessToken, { headers: { domain: "WSO2.com" } }));
    await echoOf(await callApi(path, accessToken, { headers: { domain: "https://example.org" } }));

    const wrong = await callApi(path, accessToken, { headers: { domain: "evil.com" } });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope"');
    expect(await wrong.json()).toMatchObject({ error: "insufficient_scope", reason: "domain_not_allowed" });

    const missing = await callApi(path, accessToken);
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ reason: "domain_header_missing" });
  });

  it("never admits a look-alike, suffix, prefix or subdomain of an allowed domain", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    for (const domain of [
      "evilwso2.com",
      "evil.wso2.com",
      "wso2.com.evil.example",
      "wso2.co",
      "so2.com",
      "https://evilwso2.com",
      "xwso2.com:443",
    ]) {
      const response = await callApi(path, accessToken, { headers: { domain } });
      expect(response.status, domain).toBe(403);
      expect(await response.json(), domain).toMatchObject({ reason: "domain_not_allowed" });
    }
    await echoOf(await callApi(path, accessToken, { headers: { domain: "wso2.com" } }));
  });

  it("refuses a refresh token or an authorization code sent as the Bearer token", async () => {
    const api = await createApi();
    const app = await createApp({ callbackUrl: CALLBACK });
    await subscribe(app, api);
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const path = `${api.context}/1.0.0`;
    await expectInvalidToken(await callApi(path, pair.refresh_token as string));
    // Nothing about the refresh token was cached for the gateway either.
    const hash = await hashSecret(pair.refresh_token as string);
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(hash))).toBeNull();
    const { code } = await authorizeCode(app.keys.PRODUCTION, user);
    await expectInvalidToken(await callApi(path, code));
    // The access token of the same pair is fine, the refresh token still rotates, the code still redeems.
    expect((await redeem(app.keys.PRODUCTION, { code, redirect_uri: CALLBACK })).status).toBe(200);
    await echoOf(await callApi(path, pair.access_token));
    expect((await refresh(app.keys.PRODUCTION, pair.refresh_token as string)).status).toBe(200);
  });

  it("treats WSO2's 'All' as no restriction", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: "All" });
    await echoOf(await callApi(path, accessToken, { headers: { domain: "whatever.net" } }));
  });

  it("reads the domain from the header CLIENT_DOMAIN_HEADER names", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    const vars = { CLIENT_DOMAIN_HEADER: "X-Client-Domain" };
    const ok = await callWithVars(vars, path, {
      headers: { Authorization: `Bearer ${accessToken}`, "X-Client-Domain": "wso2.com" },
    });
    await echoOf(ok);
    const refused = await callWithVars(vars, path, {
      headers: { Authorization: `Bearer ${accessToken}`, domain: "wso2.com" },
    });
    expect(refused.status).toBe(403);
  });

  it("checks the token before the subscription: a bad token on an API is 401, not 403", async () => {
    const api = await createApi();
    await expectInvalidToken(await callApi(`${api.context}/1.0.0`, "garbage"));
  });

  it("never answers 500 to hostile input", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    const paths = [path, `${path}/%00`, `${path}/..%2f..%2fadmin`, `${path}/%E0%A4%A`, "/%ff/1.0.0", "//x/1"];
    const authorizations = [
      "Bearer",
      `Bearer ${"a".repeat(8000)}`,
      `Bearer ${accessToken.replace(/\.\d+\./, ".63.")}`,
      `Bearer ${accessToken.replace(/\.\d+\./, ".064.")}`,
      `Bearer ${accessToken}, Bearer ${accessToken}`,
      "Basic %%%",
      `bEaReR    ${accessToken}   `,
    ];
    const domains = ["", "http://[::1", "wso2.com:8080", "a".repeat(4000)];
    for (const target of paths) {
      for (const authorization of authorizations) {
        for (const domain of domains) {
          const response = await call(target, { headers: { Authorization: authorization, domain } });
          expect(
            response.status,
            `${target} ${authorization.slice(0, 40)} ${domain.slice(0, 20)}`,
          ).toBeLessThan(500);
          await response.arrayBuffer();
        }
      }
    }
    // Non-ASCII header values (sent as UTF-8 bytes).
    const nonAscii: Array<Record<string, string>> = [
      { Authorization: "Bearer \u00ff\u00fe" },
      { Authorization: `Bearer ${accessToken}`, domain: "\u00e9vil.com" },
    ];
    for (const headers of nonAscii) {
      const response = await call(path, { headers });
      expect(response.status).toBeLessThan(500);
      await response.arrayBuffer();
    }
  });

  it("asks no shard about a token naming a shard its key does not have", async () => {
    const { accessToken, path } = await subscribedCaller({ shards: 2 });
    await echoOf(await callApi(path, accessToken)); // the key's facts are known now
    const [consumerKey, , random] = accessToken.split(".") as [string, string, string];
    const counter = await countDurableObjectCalls();
    try {
      for (const shard of [2, 5, 63]) {
        await expectInvalidToken(await callApi(path, `${consumerKey}.${shard}.${random}`));
      }
      expect(counter.shard).toBe(0);
    } finally {
      await counter.stop();
    }
  });

  it("fails closed: when the token's shard cannot answer, 503 and nothing is forwarded", async () => {
    const { accessToken, path } = await subscribedCaller();
    const id = `unvalidated-${Date.now()}`;
    const [consumerKey, shard] = accessToken.split(".") as [string, string];
    const restore = await runInDurableObject(
      shardStub(env, { consumerKey, shard: Number(shard) }),
      (instance) => {
        const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
        const original = prototype.validateAccessToken;
        prototype.validateAccessToken = async () => {
          throw new Error("storage unavailable (test)");
        };
        return () => {
          prototype.validateAccessToken = original;
        };
      },
    );
    let response: Response;
    try {
      response = await callApi(`${path}/track/${id}`, accessToken, { method: "POST", body: "never" });
    } finally {
      restore();
    }
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: "temporarily_unavailable" });
    const progress = await (await fetch(`${backend()}/__progress/${id}`)).json();
    expect(progress).toEqual({ seen: false, bytes: 0, done: false });
    // Nothing was cached either: once the shard answers again, the token works.
    await echoOf(await callApi(path, accessToken));
  });

  it("forwards nothing it refused", async () => {
    const { accessToken, path } = await subscribedCaller();
    const id = `refused-${Date.now()}`;
    for (const authorization of ["Bearer nope", null]) {
      const response = await call(`${path}/track/${id}`, {
        method: "POST",
        headers: authorization ? { Authorization: authorization } : {},
        body: "should never arrive",
      });
      expect(response.status).toBe(401);
    }
    // Asked directly, the backend never saw the refused calls; an accepted one it does see.
    const progress = async (trackId: string) => (await fetch(`${backend()}/__progress/${trackId}`)).json();
    expect(await progress(id)).toEqual({ seen: false, bytes: 0, done: false });
    await echoOf(await callApi(`${path}/track/${id}-accepted`, accessToken, { method: "POST", body: "ok" }));
    expect(await progress(`${id}-accepted`)).toEqual({ seen: true, bytes: 2, done: true });
  });
});

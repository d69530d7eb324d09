import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { parseTokenRoute } from "../../src/core/token-format";
import { hashSecret } from "../../src/crypto/secrets";
import { shardStub } from "../../src/durable/names";
import {
  admin,
  adminJson,
  basic,
  call,
  createApp,
  createUser,
  introspect,
  passwordToken,
  postForm,
  refresh,
  token,
} from "../helpers";

const REVOCATION_HEADERS = ["revokedaccesstoken", "revokedrefreshtoken", "authorizeduser"];

function revoke(keys: { consumerKey: string; consumerSecret: string }, params: Record<string, string>) {
  return postForm("/revoke", params, { Authorization: basic(keys) });
}

async function expectBareOk(response: Response) {
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("");
  for (const name of REVOCATION_HEADERS) expect(response.headers.get(name)).toBeNull();
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("pragma")).toBe("no-cache");
}

async function tokenState(tokenValue: string) {
  const route = parseTokenRoute(tokenValue);
  if (!route) throw new Error("not a token");
  const hash = await hashSecret(tokenValue);
  return runInDurableObject(shardStub(env, route), (_i, state) => {
    const rows = state.storage.sql.exec("SELECT state FROM tokens WHERE hash = ?", hash).toArray();
    return (rows[0]?.state as string | undefined) ?? "absent";
  });
}

describe("POST /revoke (RFC 7009 with WSO2's headers)", () => {
  it("revokes an access token: 200, empty body, RevokedAccessToken, RevokedRefreshToken, AuthorizedUser", async () => {
    const app = await createApp();
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const response = await call("/revoke", {
      method: "POST",
      headers: {
        Authorization: basic(app.keys.PRODUCTION),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: `token=${pair.access_token}`,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect(response.headers.get("RevokedAccessToken")).toBe(pair.access_token);
    expect(response.headers.get("RevokedRefreshToken")).toBe(pair.refresh_token);
    expect(response.headers.get("AuthorizedUser")).toBe(user.canonical);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    // Both tokens of the pair are revoked.
    expect(await introspect(pair.access_token)).toEqual({ active: false });
    expect(await introspect(pair.refresh_token as string)).toEqual({ active: false });
    expect(await tokenState(pair.access_token)).toBe("revoked");
    expect(await tokenState(pair.refresh_token as string)).toBe("revoked");
    expect((await refresh(app.keys.PRODUCTION, pair.refresh_token as string)).body.error).toBe(
      "invalid_grant",
    );
  });

  it("revokes via the refresh token and reports the access token's value too", async () => {
    const app = await createApp();
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const response = await revoke(app.keys.PRODUCTION, {
      token: pair.refresh_token as string,
      token_type_hint: "refresh_token",
    });
    expect(response.headers.get("RevokedAccessToken")).toBe(pair.access_token);
    expect(response.headers.get("RevokedRefreshToken")).toBe(pair.refresh_token);
    expect(await introspect(pair.access_token)).toEqual({ active: false });
  });

  it("finds the token whatever token_type_hint says (RFC 7009 §2.1)", async () => {
    const app = await createApp();
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const wrongHint = await revoke(app.keys.PRODUCTION, {
      token: pair.access_token,
      token_type_hint: "refresh_token",
    });
    expect(wrongHint.headers.get("RevokedAccessToken")).toBe(pair.access_token);
    const other = await passwordToken(app.keys.PRODUCTION, user);
    const oddHint = await revoke(app.keys.PRODUCTION, {
      token: other.access_token,
      token_type_hint: "something_else",
    });
    expect(oddHint.headers.get("RevokedAccessToken")).toBe(other.access_token);
  });

  it("names the application owner as AuthorizedUser for an application token, with no refresh header", async () => {
    const app = await createApp({ owner: "admin" });
    const issued = await token(app.keys.SANDBOX, { grant_type: "client_credentials" });
    const response = await revoke(app.keys.SANDBOX, { token: issued.body.access_token });
    expect(response.headers.get("RevokedAccessToken")).toBe(issued.body.access_token);
    expect(response.headers.get("RevokedRefreshToken")).toBeNull();
    expect(response.headers.get("AuthorizedUser")).toBe("admin@carbon.super");
  });

  it("answers a bare 200 for unknown, already revoked, expired-looking and foreign tokens", async () => {
    const app = await createApp();
    const other = await createApp();
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    await expectBareOk(await revoke(app.keys.PRODUCTION, { token: "not-a-token" }));
    await expectBareOk(
      await revoke(app.keys.PRODUCTION, { token: `${app.keys.PRODUCTION.consumerKey}.0.${"B".repeat(43)}` }),
    );
    // Another client's token: nothing revoked, nothing said.
    await expectBareOk(await revoke(other.keys.PRODUCTION, { token: pair.access_token }));
    expect((await introspect(pair.access_token)).active).toBe(true);
    // The same application's other key is another client too.
    await expectBareOk(await revoke(app.keys.SANDBOX, { token: pair.access_token }));
    expect((await introspect(pair.access_token)).active).toBe(true);
    // Revoked once: the second time is a bare 200.
    expect(
      (await revoke(app.keys.PRODUCTION, { token: pair.access_token })).headers.get("RevokedAccessToken"),
    ).toBe(pair.access_token);
    await expectBareOk(await revoke(app.keys.PRODUCTION, { token: pair.access_token }));
    await expectBareOk(await revoke(app.keys.PRODUCTION, { token: pair.refresh_token as string }));
  });

  it("still authenticates the client: 401 invalid_client for a wrong secret, 400 without a token", async () => {
    const app = await createApp();
    const issued = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    const wrong = await postForm(
      "/revoke",
      { token: issued.body.access_token },
      { Authorization: `Basic ${btoa(`${app.keys.PRODUCTION.consumerKey}:wrong`)}` },
    );
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as Record<string, string>).error).toBe("invalid_client");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await introspect(issued.body.access_token)).active).toBe(true);
    // No secret for a token that was not issued by the implicit grant.
    const noSecret = await postForm("/revoke", {
      token: issued.body.access_token,
      client_id: app.keys.PRODUCTION.consumerKey,
    });
    expect(noSecret.status).toBe(401);
    expect((await introspect(issued.body.access_token)).active).toBe(true);
    const missing = await postForm("/revoke", {}, { Authorization: basic(app.keys.PRODUCTION) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as Record<string, string>).error).toBe("invalid_request");
  });

  it("purges the gateway's cache for a token the gateway validated, and writes no KV for one it never saw", async () => {
    const app = await createApp();
    const seen = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    const unseen = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    // Validate `seen` as the gateway does (the shard notes it), then cache it as the gateway would.
    const seenHash = await hashSecret(seen.body.access_token);
    const route = parseTokenRoute(seen.body.access_token);
    if (!route) throw new Error("bad token");
    const facts = await shardStub(env, route).validateAccessToken(seenHash);
    expect(facts?.consumerKey).toBe(app.keys.PRODUCTION.consumerKey);
    await env.VALIDATION_CACHE.put(kvKeys.validation(seenHash), JSON.stringify({ cached: true }));
    const keysBefore = (await env.VALIDATION_CACHE.list()).keys.map((key) => key.name).sort();

    await revoke(app.keys.PRODUCTION, { token: unseen.body.access_token });
    expect((await env.VALIDATION_CACHE.list()).keys.map((key) => key.name).sort()).toEqual(keysBefore);

    await revoke(app.keys.PRODUCTION, { token: seen.body.access_token });
    // One KV write: the revocation marker, written over the token's entry (the one key the gateway reads).
    expect(await env.VALIDATION_CACHE.get(kvKeys.validation(seenHash), "json")).toEqual({
      revokedAt: expect.any(Number),
    });
  });
});

describe("regeneration revokes what it replaces", () => {
  it("regenerating an application token revokes the previous application token only", async () => {
    const app = await createApp();
    const user = await createUser();
    const previous = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    const userPair = await passwordToken(app.keys.PRODUCTION, user);
    const response = await admin("POST", `/applications/${app.id}/keys/PRODUCTION/regenerate-token`);
    expect(response.status).toBe(200);
    const fresh = (await response.json()) as { access_token: string; expires_in: number };
    expect(fresh.expires_in).toBe(3600);
    expect((await introspect(fresh.access_token)).active).toBe(true);
    expect(await introspect(previous.body.access_token)).toEqual({ active: false });
    expect((await introspect(userPair.access_token)).active).toBe(true);
  });

  it("regenerating a consumer secret revokes every token issued under the old one", async () => {
    const app = await createApp();
    const user = await createUser();
    const appToken = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    const userPair = await passwordToken(app.keys.PRODUCTION, user);
    const sandboxToken = await token(app.keys.SANDBOX, { grant_type: "client_credentials" });
    const regenerated = await adminJson<{ consumerKey: string; consumerSecret: string }>(
      "POST",
      `/applications/${app.id}/keys/PRODUCTION/regenerate-secret`,
    );
    expect(regenerated.consumerKey).toBe(app.keys.PRODUCTION.consumerKey);
    expect(regenerated.consumerSecret).not.toBe(app.keys.PRODUCTION.consumerSecret);
    expect(await introspect(appToken.body.access_token)).toEqual({ active: false });
    expect(await introspect(userPair.access_token)).toEqual({ active: false });
    expect(await introspect(userPair.refresh_token as string)).toEqual({ active: false });
    expect((await introspect(sandboxToken.body.access_token)).active).toBe(true);
    // The old secret no longer authenticates; the new one does.
    expect((await token(app.keys.PRODUCTION, { grant_type: "client_credentials" })).status).toBe(401);
    expect((await token(regenerated, { grant_type: "client_credentials" })).status).toBe(200);
  });
});

describe("POST /introspect (RFC 7662)", () => {
  it("describes an active user token to the admin and to a client of the same tenant", async () => {
    const app = await createApp();
    const resourceServer = await createApp();
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user, { scope: "read" });
    const info = await introspect(pair.access_token);
    expect(info).toMatchObject({
      active: true,
      scope: "read",
      client_id: app.keys.PRODUCTION.consumerKey,
      username: user.canonical,
      token_type: "Bearer",
    });
    expect(typeof info.exp).toBe("number");
    expect(typeof info.iat).toBe("number");
    expect((info.exp as number) - (info.iat as number)).toBe(3600);
    const asClient = await postForm(
      "/introspect",
      { token: pair.access_token },
      { Authorization: basic(resourceServer.keys.PRODUCTION) },
    );
    expect(asClient.status).toBe(200);
    expect(asClient.headers.get("cache-control")).toBe("no-store");
    expect(((await asClient.json()) as Record<string, unknown>).active).toBe(true);
  });

  it("never reveals another tenant's token to its clients", async () => {
    await adminJson("POST", "/users", { username: "owner", password: "pw-owner-1", tenant: "wso2.com" });
    const foreignApp = await createApp({ owner: "owner@wso2.com" });
    const app = await createApp();
    const foreignToken = await token(foreignApp.keys.PRODUCTION, { grant_type: "client_credentials" });
    const response = await postForm(
      "/introspect",
      { token: foreignToken.body.access_token },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    expect(await response.json()).toEqual({ active: false });
    expect((await introspect(foreignToken.body.access_token)).active).toBe(true);
  });

  it("ends the grant of an expired access token too, naming nothing: its refresh token stops working", async () => {
    const app = await createApp({ accessTokenValidity: 1 });
    const keys = app.keys.PRODUCTION;
    const user = await createUser();
    const pair = await passwordToken(keys, user);
    const kept = await passwordToken(keys, user);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await introspect(pair.access_token)).toEqual({ active: false });
    await expectBareOk(await revoke(keys, { token: pair.access_token }));
    expect(await tokenState(pair.refresh_token as string)).toBe("revoked");
    const refreshed = await refresh(keys, pair.refresh_token as string);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe("invalid_grant");
    // Another grant of the same user is untouched.
    expect((await refresh(keys, kept.refresh_token as string)).status).toBe(200);
  });

  it("answers active:false for unknown, malformed, revoked, spent and expired tokens", async () => {
    expect(await introspect("garbage")).toEqual({ active: false });
    const app = await createApp();
    const keys = app.keys.PRODUCTION;
    expect(await introspect(`${keys.consumerKey}.3.${"C".repeat(43)}`)).toEqual({ active: false });
    const user = await createUser();
    // Revoked: both tokens of the pair, as the operator and as a client of the tenant see them.
    const revoked = await passwordToken(keys, user);
    expect((await introspect(revoked.access_token)).active).toBe(true);
    expect((await revoke(keys, { token: revoked.access_token })).headers.get("RevokedAccessToken")).toBe(
      revoked.access_token,
    );
    for (const value of [revoked.access_token, revoked.refresh_token as string]) {
      expect(await introspect(value)).toEqual({ active: false });
      const asClient = await postForm("/introspect", { token: value }, { Authorization: basic(keys) });
      expect(await asClient.json()).toEqual({ active: false });
    }
    // Spent by rotation: the old refresh token (the old access token is gone).
    const rotated = await passwordToken(keys, user);
    expect((await refresh(keys, rotated.refresh_token as string)).status).toBe(200);
    expect(await introspect(rotated.refresh_token as string)).toEqual({ active: false });
    expect(await introspect(rotated.access_token)).toEqual({ active: false });
    // Expired.
    const shortLived = await createApp({ accessTokenValidity: 1 });
    const expiring = await token(shortLived.keys.PRODUCTION, { grant_type: "client_credentials" });
    expect((await introspect(expiring.body.access_token)).active).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await introspect(expiring.body.access_token)).toEqual({ active: false });
  });

  it("requires authentication: 401 without credentials or with a wrong admin token", async () => {
    const none = await postForm("/introspect", { token: "x" });
    expect(none.status).toBe(401);
    const wrongAdmin = await postForm("/introspect", { token: "x" }, { Authorization: "Bearer nope" });
    expect(wrongAdmin.status).toBe(401);
    const app = await createApp();
    const missing = await postForm("/introspect", {}, { Authorization: basic(app.keys.PRODUCTION) });
    expect(missing.status).toBe(400);
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { userStoreOf } from "../../src/durable/names";
import {
  admin,
  adminJson,
  call,
  createApp,
  createUser,
  introspect,
  passwordToken,
  token,
  unique,
} from "../helpers";

describe("admin API authentication", () => {
  it("answers 401 with a JSON error without the admin token", async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { Authorization: "Bearer wrong" },
      { Authorization: "Basic dGVzdA==" },
    ];
    for (const headers of attempts) {
      const response = await call("/admin/users", { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await response.json()) as Record<string, string>;
      expect(body.error).toBe("unauthorized");
      expect(body.message).toMatch(/ADMIN_TOKEN/);
    }
  });
});

describe("/admin/users", () => {
  it("creates users in carbon.super / PRIMARY by default and stores only a PBKDF2 hash", async () => {
    const response = await admin("POST", "/users", { username: "alice", password: "alice-pass-1" });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      username: "alice@carbon.super",
      name: "alice",
      tenant: "carbon.super",
      userStoreDomain: "PRIMARY",
    });
    expect(JSON.stringify(body)).not.toContain("alice-pass-1");
    const stored = await runInDurableObject(userStoreOf(env, "alice"), (_i, state) =>
      state.storage.sql.exec("SELECT password FROM users WHERE username = 'alice@carbon.super'").one(),
    );
    const hash = JSON.parse(stored.password as string);
    expect(hash).toMatchObject({ algorithm: "pbkdf2-sha256", iterations: 100000 });
    expect(stored.password).not.toContain("alice-pass-1");

    expect((await admin("POST", "/users", { username: "alice", password: "again" })).status).toBe(409);
    expect((await adminJson("GET", "/users/alice")).username).toBe("alice@carbon.super");
    expect((await adminJson("GET", "/users/alice%40carbon.super")).username).toBe("alice@carbon.super");
    expect((await adminJson<unknown[]>("GET", "/users")).length).toBeGreaterThanOrEqual(1);
  });

  it("changes a password and deletes a user", async () => {
    const app = await createApp();
    const user = await createUser();
    expect((await admin("PATCH", `/users/${user.username}`, { password: "new-password-2" })).status).toBe(
      200,
    );
    expect(
      (
        await token(app.keys.PRODUCTION, {
          grant_type: "password",
          username: user.username,
          password: user.password,
        })
      ).status,
    ).toBe(400);
    await passwordToken(app.keys.PRODUCTION, { username: user.username, password: "new-password-2" });
    expect((await admin("DELETE", `/users/${user.username}`)).status).toBe(204);
    expect((await admin("GET", `/users/${user.username}`)).status).toBe(404);
    expect((await admin("DELETE", `/users/${user.username}`)).status).toBe(404);
  });

  it("revokes a user's tokens, on every application, when the user is deleted or the password changes", async () => {
    const first = await createApp();
    const second = await createApp();
    const user = await createUser();
    const other = await createUser();
    const tokens = [
      await passwordToken(first.keys.PRODUCTION, user),
      await passwordToken(second.keys.SANDBOX, user),
    ];
    const bystander = await passwordToken(first.keys.PRODUCTION, other);
    const active = async (value: string) => (await introspect(value)).active;
    expect((await admin("PATCH", `/users/${user.username}`, { password: "changed-password-3" })).status).toBe(
      200,
    );
    for (const pair of tokens) {
      expect(await active(pair.access_token)).toBe(false);
      expect(await active(pair.refresh_token as string)).toBe(false);
    }
    expect(await active(bystander.access_token)).toBe(true);
    const fresh = await passwordToken(first.keys.PRODUCTION, {
      username: user.username,
      password: "changed-password-3",
    });
    expect((await admin("DELETE", `/users/${user.username}`)).status).toBe(204);
    expect(await active(fresh.access_token)).toBe(false);
    expect(await active(bystander.access_token)).toBe(true);
  });

  it("refuses bad input with 400/415 and a message", async () => {
    const cases: Array<[unknown, number]> = [
      [{ password: "x" }, 400],
      [{ username: "bob" }, 400],
      [{ username: "bad name!", password: "x" }, 400],
      [{ username: "bob", password: 42 }, 400],
      [[1, 2], 400],
    ];
    for (const [body, status] of cases) {
      const response = await admin("POST", "/users", body);
      expect(response.status).toBe(status);
      expect(((await response.json()) as Record<string, string>).message).toBeTruthy();
    }
    const notJson = await call("/admin/users", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    const wrongType = await call("/admin/users", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token", "Content-Type": "text/plain" },
      body: "{}",
    });
    expect(wrongType.status).toBe(415);
  });
});

describe("/admin/applications", () => {
  it("creates an application with PRODUCTION and SANDBOX keys; secrets shown once, stored hashed", async () => {
    const response = await admin("POST", "/applications", {
      name: "mobile",
      owner: "alice",
      accessTokenValidity: 1800,
      allowedDomains: ["wso2.com", "Example.org"],
      callbackUrl: "https://app.example/callback",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const app = (await response.json()) as {
      id: string;
      keys: Record<string, { consumerKey: string; consumerSecret: string }>;
    } & Record<string, unknown>;
    expect(app).toMatchObject({
      name: "mobile",
      owner: "alice@carbon.super",
      accessTokenValidity: 1800,
      allowedDomains: ["wso2.com", "example.org"],
      callbackUrl: "https://app.example/callback",
    });
    for (const keyType of ["PRODUCTION", "SANDBOX"]) {
      expect(app.keys[keyType]?.consumerKey).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(app.keys[keyType]?.consumerSecret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    }
    const fetched = await adminJson<typeof app>("GET", `/applications/${app.id}`);
    expect(fetched.keys.PRODUCTION?.consumerKey).toBe(app.keys.PRODUCTION?.consumerKey);
    expect(fetched.keys.PRODUCTION?.consumerSecret).toBeUndefined();
    expect(JSON.stringify(await adminJson("GET", "/applications"))).not.toContain(
      app.keys.PRODUCTION?.consumerSecret,
    );
    expect((await admin("POST", "/applications", { name: "mobile", owner: "alice" })).status).toBe(409);
    // The routing facts of each key are published to KV for the token endpoint.
    const routing = await env.VALIDATION_CACHE.get(
      kvKeys.client(app.keys.PRODUCTION?.consumerKey as string),
      "json",
    );
    expect(routing).toMatchObject({ applicationId: app.id, keyType: "PRODUCTION", shards: 16 });
  });

  it("validates input", async () => {
    const cases: unknown[] = [
      { owner: "alice" },
      { name: "x" },
      { name: "x", owner: "alice", accessTokenValidity: 1.5 },
      { name: "x", owner: "alice", accessTokenValidity: "soon" },
      { name: "x", owner: "alice", allowedDomains: 7 },
      { name: "x", owner: "alice", callbackUrl: "not a url" },
      { name: "x", owner: "alice", callbackUrl: "javascript:alert(1)" },
      { name: "x", owner: "alice", shards: 0 },
    ];
    for (const body of cases) {
      const response = await admin("POST", "/applications", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await admin("GET", "/applications/does-not-exist")).status).toBe(404);
    expect(
      (await admin("POST", "/applications/does-not-exist/keys/PRODUCTION/regenerate-secret")).status,
    ).toBe(404);
    const app = await createApp();
    expect((await admin("POST", `/applications/${app.id}/keys/STAGING/regenerate-secret`)).status).toBe(404);
    expect((await admin("PATCH", `/applications/${app.id}`, { owner: "someone" })).status).toBe(400);
    expect((await admin("PATCH", `/applications/${app.id}`, { shards: 3 })).status).toBe(400);
  });

  it("takes back its own GET representation with a change (owner and shards as they are pass)", async () => {
    const app = await createApp();
    const shown = (await (await admin("GET", `/applications/${app.id}`)).json()) as Record<string, unknown>;
    const { keys: _keys, ...representation } = shown;
    const renamed = unique("renamed");
    const put = await admin("PUT", `/applications/${app.id}`, { ...representation, name: renamed });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ name: renamed, owner: shown.owner, shards: shown.shards });
    // The owner spelled without its tenant is the same owner.
    const owner = String(shown.owner).replace(/@carbon\.super$/, "");
    expect((await admin("PATCH", `/applications/${app.id}`, { owner, name: `${renamed}-2` })).status).toBe(
      200,
    );
    expect((await admin("PUT", `/applications/${app.id}`, { ...representation, owner: "else" })).status).toBe(
      400,
    );
    const stored = (await (await admin("GET", `/applications/${app.id}`)).json()) as Record<string, unknown>;
    expect(stored).toMatchObject({ name: `${renamed}-2`, owner: shown.owner, shards: shown.shards });
  });

  it("deletes an application: its keys stop authenticating and its tokens die", async () => {
    const app = await createApp();
    const issued = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    expect((await admin("DELETE", `/applications/${app.id}`)).status).toBe(204);
    expect((await admin("GET", `/applications/${app.id}`)).status).toBe(404);
    const after = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    expect(after.status).toBe(401);
    const info = await call("/introspect", {
      method: "POST",
      headers: {
        Authorization: "Bearer test-admin-token",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: `token=${issued.body.access_token}`,
    });
    expect(await info.json()).toEqual({ active: false });
  });
});

describe("unknown routes", () => {
  it("answers JSON 404s", async () => {
    const response = await admin("GET", "/nothing-here");
    expect(response.status).toBe(404);
    expect(((await response.json()) as Record<string, string>).error).toBe("not_found");
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { NEVER_EXPIRES_IN } from "../../src/core/config";
import { parseTokenRoute } from "../../src/core/token-format";
import { hashSecret } from "../../src/crypto/secrets";
import { registryStub, shardStub } from "../../src/durable/names";
import {
  basic,
  call,
  createApp,
  createUser,
  expectIssued,
  form,
  passwordToken,
  postForm,
  type TestApp,
  type TokenBody,
  token,
  unique,
} from "../helpers";

function formRequest(headers: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: "grant_type=client_credentials",
  };
}

const URL_SAFE_TOKEN = /^[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]{43}$/;

async function storedRow(tokenValue: string) {
  const route = parseTokenRoute(tokenValue);
  if (!route) throw new Error("not a token");
  const stub = shardStub(env, route);
  const hash = await hashSecret(tokenValue);
  return runInDurableObject(stub, (_instance, state) => {
    const rows = state.storage.sql.exec("SELECT * FROM tokens WHERE hash = ?", hash).toArray();
    return rows[0] ?? null;
  });
}

describe("POST /token grant_type=client_credentials", () => {
  it("issues an application token with HTTP Basic, no refresh token, RFC 6749 §5.1 headers", async () => {
    const app = await createApp();
    const { status, body, response } = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    expect(status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(3600);
    expect(body.scope).toBe("default");
    expect(body.refresh_token).toBeUndefined();
    expect(body.access_token).toMatch(URL_SAFE_TOKEN);
    const row = await storedRow(body.access_token);
    expect(row).toMatchObject({
      kind: "access",
      state: "active",
      grant_type: "client_credentials",
      user: null,
    });
    expect(row?.key_type).toBe("PRODUCTION");
  });

  it("authenticates with client_id and client_secret in the body (client_secret_post)", async () => {
    const app = await createApp();
    const keys = app.keys.SANDBOX;
    const response = await postForm("/token", {
      grant_type: "client_credentials",
      client_id: keys.consumerKey,
      client_secret: keys.consumerSecret,
    });
    const body = (await response.json()) as TokenBody;
    expect(response.status, JSON.stringify(body)).toBe(200);
    await expectIssued(body, keys, { username: "admin@carbon.super", keyType: "SANDBOX", refresh: false });
  });

  it("decodes form-urlencoded Basic credentials (RFC 6749 §2.3.1)", async () => {
    const app = await createApp();
    const { consumerKey, consumerSecret } = app.keys.PRODUCTION;
    const encoded = btoa(`${encodeURIComponent(consumerKey)}:${encodeURIComponent(consumerSecret)}`);
    const response = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      { Authorization: `Basic ${encoded}` },
    );
    const body = (await response.json()) as TokenBody;
    expect(response.status, JSON.stringify(body)).toBe(200);
    await expectIssued(body, app.keys.PRODUCTION, {
      username: "admin@carbon.super",
      keyType: "PRODUCTION",
      refresh: false,
    });
  });

  it("accepts the WSO2 documents' curl quirks: trailing comma, glued header text, no Content-Type", async () => {
    const app = await createApp();
    const credentials = basic(app.keys.PRODUCTION);
    const quirks: Array<[string, RequestInit]> = [
      ["trailing comma", formRequest({ Authorization: `${credentials},` })],
      [
        "glued header text",
        formRequest({ Authorization: `${credentials}, Content-Type: application/x-www-form-urlencoded` }),
      ],
      [
        "no Content-Type",
        {
          method: "POST",
          headers: { Authorization: credentials },
          body: new TextEncoder().encode("grant_type=client_credentials"),
        },
      ],
      [
        "charset",
        formRequest({
          Authorization: credentials,
          "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        }),
      ],
    ];
    for (const [quirk, init] of quirks) {
      const response = await call("/token", init);
      const body = (await response.json()) as TokenBody;
      expect(response.status, `${quirk}: ${JSON.stringify(body)}`).toBe(200);
      await expectIssued(body, app.keys.PRODUCTION, {
        username: "admin@carbon.super",
        keyType: "PRODUCTION",
        refresh: false,
      });
    }
  });

  it("echoes PRODUCTION / SANDBOX scopes that match the key, refuses the other with invalid_scope", async () => {
    const app = await createApp();
    const production = await token(app.keys.PRODUCTION, {
      grant_type: "client_credentials",
      scope: "PRODUCTION",
    });
    expect(production.status).toBe(200);
    expect(production.body.scope).toBe("PRODUCTION");
    const sandbox = await token(app.keys.SANDBOX, {
      grant_type: "client_credentials",
      scope: "SANDBOX read",
    });
    expect(sandbox.body.scope).toBe("SANDBOX read");
    const wrong = await token(app.keys.PRODUCTION, { grant_type: "client_credentials", scope: "SANDBOX" });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe("invalid_scope");
    const wrongOther = await token(app.keys.SANDBOX, {
      grant_type: "client_credentials",
      scope: "read PRODUCTION",
    });
    expect(wrongOther.body.error).toBe("invalid_scope");
  });

  it("refuses scope tokens with characters outside RFC 6749 §3.3", async () => {
    const app = await createApp();
    const result = await token(app.keys.PRODUCTION, {
      grant_type: "client_credentials",
      scope: 'read "quoted"',
    });
    expect(result.status).toBe(400);
    expect(result.body.error).toBe("invalid_scope");
  });
});

describe("POST /token grant_type=password", () => {
  it("issues a user token and a refresh token, stored only as hashes", async () => {
    const app = await createApp();
    const user = await createUser();
    const body = await passwordToken(app.keys.PRODUCTION, user);
    expect(body.access_token).toMatch(URL_SAFE_TOKEN);
    expect(body.refresh_token).toMatch(URL_SAFE_TOKEN);
    expect(body.expires_in).toBe(3600);
    const access = await storedRow(body.access_token);
    const refresh = await storedRow(body.refresh_token as string);
    expect(access).toMatchObject({ kind: "access", user: user.canonical, grant_type: "password" });
    expect(refresh).toMatchObject({ kind: "refresh", user: user.canonical, family: access?.family });
    expect(refresh?.expires_at).toBe((refresh?.issued_at as number) + 86400 * 1000);
  });

  it("accepts user@tenant and DOMAIN/user spellings", async () => {
    const app = await createApp();
    await createUser("carol", "pw-carol-1");
    const carol = await passwordToken(app.keys.PRODUCTION, {
      username: "carol@carbon.super",
      password: "pw-carol-1",
    });
    await expectIssued(carol, app.keys.PRODUCTION, {
      username: "carol@carbon.super",
      keyType: "PRODUCTION",
      refresh: true,
    });
    const created = await (
      await call("/admin/users", {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
        body: JSON.stringify({
          username: "dave",
          password: "pw-dave-1",
          userStoreDomain: "foo",
          tenant: "wso2.com",
        }),
      })
    ).json();
    expect(created).toMatchObject({
      username: "FOO/dave@wso2.com",
      userStoreDomain: "FOO",
      tenant: "wso2.com",
    });
    const body = await passwordToken(app.keys.PRODUCTION, {
      username: "FOO/dave@wso2.com",
      password: "pw-dave-1",
    });
    expect((await storedRow(body.access_token))?.user).toBe("FOO/dave@wso2.com");
    const wrongStore = await token(app.keys.PRODUCTION, {
      grant_type: "password",
      username: "dave@wso2.com",
      password: "pw-dave-1",
    });
    expect(wrongStore.body.error).toBe("invalid_grant");
  });

  it("answers invalid_grant for a wrong password or unknown user, invalid_request for missing ones", async () => {
    const app = await createApp();
    const user = await createUser();
    const wrong = await token(app.keys.PRODUCTION, {
      grant_type: "password",
      username: user.username,
      password: "nope",
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({
      error: "invalid_grant",
      error_description:
        "invalid username or password, or too many failed attempts from this address; try again later",
    });
    const unknown = await token(app.keys.PRODUCTION, {
      grant_type: "password",
      username: "ghost",
      password: "nope",
    });
    expect(unknown.body.error).toBe("invalid_grant");
    const missing = await token(app.keys.PRODUCTION, { grant_type: "password", username: user.username });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      error: "invalid_request",
      error_description: "missing parameter password",
    });
  });

  it("throttles a source after repeated wrong passwords, even for the right one, with the wrong-password answer", async () => {
    const app = await createApp();
    const user = await createUser();
    for (let i = 0; i < 5; i++) {
      const attempt = await token(app.keys.PRODUCTION, {
        grant_type: "password",
        username: user.username,
        password: `bad${i}`,
      });
      expect(attempt.body.error).toBe("invalid_grant");
    }
    const locked = await token(app.keys.PRODUCTION, {
      grant_type: "password",
      username: user.username,
      password: user.password,
    });
    expect(locked.status).toBe(400);
    expect(locked.body).toEqual(
      (await token(app.keys.PRODUCTION, { grant_type: "password", username: unique("ghost"), password: "x" }))
        .body,
    );
  });
});

describe("token validity", () => {
  it("uses the application's override for its keys, and a negative one never expires", async () => {
    const short = await createApp({ accessTokenValidity: 120 });
    expect((await token(short.keys.PRODUCTION, { grant_type: "client_credentials" })).body.expires_in).toBe(
      120,
    );
    const user = await createUser();
    expect((await passwordToken(short.keys.SANDBOX, user)).expires_in).toBe(120);

    const forever = await createApp({ accessTokenValidity: -1 });
    const result = await token(forever.keys.PRODUCTION, { grant_type: "client_credentials" });
    expect(result.body.expires_in).toBe(NEVER_EXPIRES_IN);
    const row = await storedRow(result.body.access_token);
    expect(row?.expires_at).toBeNull();
    const introspection = await postForm(
      "/introspect",
      { token: result.body.access_token },
      { Authorization: "Bearer test-admin-token" },
    );
    const info = (await introspection.json()) as Record<string, unknown>;
    expect(info.active).toBe(true);
    expect(info.exp).toBe((info.iat as number) + NEVER_EXPIRES_IN);
  });

  it("accepts WSO2's validityPeriod name and updates apply to new tokens", async () => {
    const app = await createApp({ validityPeriod: 600 });
    expect((await token(app.keys.PRODUCTION, { grant_type: "client_credentials" })).body.expires_in).toBe(
      600,
    );
    const updated = await call(`/admin/applications/${app.id}`, {
      method: "PATCH",
      headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
      body: JSON.stringify({ accessTokenValidity: 900 }),
    });
    expect(updated.status).toBe(200);
    expect((await token(app.keys.PRODUCTION, { grant_type: "client_credentials" })).body.expires_in).toBe(
      900,
    );
  });
});

describe("POST /token errors (RFC 6749 §5.2)", () => {
  let app: TestApp;
  const request = (body: string, headers: Record<string, string> = {}) =>
    call("/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: basic(app.keys.PRODUCTION),
        ...headers,
      },
      body,
    });
  const expectError = async (response: Response, status: number, error: string) => {
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).toBe(status);
    expect(body.error).toBe(error);
    expect(typeof body.error_description).toBe("string");
    expect(response.headers.get("cache-control")).toBe("no-store");
    return body;
  };

  it("covers malformed requests", async () => {
    app = await createApp();
    await expectError(await request(""), 400, "invalid_request");
    await expectError(
      await request("grant_type=client_credentials&grant_type=password"),
      400,
      "invalid_request",
    );
    await expectError(await request("grant_type=urn:example:nothing"), 400, "unsupported_grant_type");
    await expectError(
      await request(JSON.stringify({ grant_type: "client_credentials" }), {
        "Content-Type": "application/json",
      }),
      400,
      "invalid_request",
    );
    await expectError(
      await request(`grant_type=client_credentials&pad=${"x".repeat(20_000)}`),
      400,
      "invalid_request",
    );
    const get = await call("/token");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    await expectError(
      await request(
        form({ grant_type: "client_credentials", client_secret: app.keys.PRODUCTION.consumerSecret }),
      ),
      400,
      "invalid_request",
    );
  });

  it("answers invalid_client with 401 and WWW-Authenticate: Basic", async () => {
    app = await createApp();
    const cases: Array<Record<string, string>> = [
      { Authorization: "Basic !!!not-base64!!!" },
      { Authorization: `Basic ${btoa("no-colon-here")}` },
      { Authorization: `Basic ${btoa(`unknownclientkey123:${app.keys.PRODUCTION.consumerSecret}`)}` },
      { Authorization: `Basic ${btoa(`${app.keys.PRODUCTION.consumerKey}:wrong-secret`)}` },
      {
        Authorization: `Basic ${btoa(`${app.keys.PRODUCTION.consumerKey}:${app.keys.SANDBOX.consumerSecret}`)}`,
      },
    ];
    for (const headers of cases) {
      const response = await request("grant_type=client_credentials", headers);
      await expectError(response, 401, "invalid_client");
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic /);
    }
    const anonymous = await call("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    await expectError(anonymous, 401, "invalid_client");
    const publicClient = await call("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form({ grant_type: "client_credentials", client_id: app.keys.PRODUCTION.consumerKey }),
    });
    await expectError(publicClient, 401, "invalid_client");
  });

  it("locks a source out of a consumer key after repeated wrong secrets, across its shards; other sources are not", async () => {
    const locked = await createApp();
    const bad = { Authorization: `Basic ${btoa(`${locked.keys.PRODUCTION.consumerKey}:wrong`)}` };
    for (let i = 0; i < 5; i++) {
      const response = await call("/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...bad },
        body: "grant_type=client_credentials",
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: "invalid_client" });
    }
    // Every shard now refuses even the right secret (client_credentials picks a random shard each time).
    for (let i = 0; i < 6; i++) {
      const response = await postForm(
        "/token",
        { grant_type: "client_credentials" },
        { Authorization: basic(locked.keys.PRODUCTION) },
      );
      const body = (await response.json()) as Record<string, string>;
      expect(response.status).toBe(401);
      expect(body.error_description).toMatch(/too many failed/);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // The other key of the application is not affected, nor is the right secret from another source.
    const sandbox = await token(locked.keys.SANDBOX, { grant_type: "client_credentials" });
    expect(sandbox.status).toBe(200);
    await expectIssued(sandbox.body, locked.keys.SANDBOX, {
      username: "admin@carbon.super",
      keyType: "SANDBOX",
      refresh: false,
    });
    for (let i = 0; i < 6; i++) {
      const other = await postForm(
        "/token",
        { grant_type: "client_credentials" },
        { Authorization: basic(locked.keys.PRODUCTION), "CF-Connecting-IP": "198.51.100.20" },
      );
      expect(other.status).toBe(200);
    }
  });

  it("never stores a token or secret in plaintext (DO SQLite and KV)", async () => {
    app = await createApp();
    const user = await createUser();
    const issued = [
      await passwordToken(app.keys.PRODUCTION, user),
      await passwordToken(app.keys.PRODUCTION, user),
    ];
    const secrets = [
      app.keys.PRODUCTION.consumerSecret,
      app.keys.SANDBOX.consumerSecret,
      user.password,
      ...issued.flatMap((body) => [body.access_token, body.refresh_token as string]),
    ];
    const dumps: string[] = [];
    for (const body of issued) {
      const route = parseTokenRoute(body.access_token);
      if (!route) throw new Error("bad token");
      const stub = shardStub(env, route);
      dumps.push(
        await runInDurableObject(stub, (_i, state) =>
          JSON.stringify([
            ...state.storage.sql.exec("SELECT * FROM tokens").toArray(),
            ...state.storage.sql.exec("SELECT * FROM client").toArray(),
          ]),
        ),
      );
    }
    const registry = registryStub(env);
    dumps.push(
      await runInDurableObject(registry, (_i, state) =>
        JSON.stringify(
          ["users", "applications", "app_keys"].map((table) =>
            state.storage.sql.exec(`SELECT * FROM ${table}`).toArray(),
          ),
        ),
      ),
    );
    const keys = await env.VALIDATION_CACHE.list();
    for (const key of keys.keys) dumps.push(key.name, (await env.VALIDATION_CACHE.get(key.name)) ?? "");
    const everything = dumps.join("\n");
    expect(everything).toContain(app.keys.PRODUCTION.consumerKey);
    for (const secret of secrets) {
      expect(everything.includes(secret)).toBe(false);
      // The random part alone must not leak either.
      expect(everything.includes(secret.split(".").pop() as string)).toBe(false);
    }
  });
});

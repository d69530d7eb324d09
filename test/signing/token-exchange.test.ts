import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { shardStub } from "../../src/durable/names";
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE } from "../../src/oauth/grants/token-exchange";
import { appToken } from "../gateway/gateway-helpers";
import {
  admin,
  adminJson,
  basic,
  call,
  createApp,
  createUser,
  introspect,
  type Keys,
  passwordToken,
  postForm,
  type TestApp,
  unique,
} from "../helpers";

const JWT = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

async function exchange(keys: Keys, subjectToken: string, extra: Record<string, string> = {}) {
  const response = await postForm(
    "/token",
    {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      ...extra,
    },
    { Authorization: basic(keys) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, response };
}

/** Rows in every shard of a key: a refused exchange must mint nothing. */
async function rowsOf(app: TestApp): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < 16; shard++) {
    const stub = shardStub(env, { consumerKey: app.keys.PRODUCTION.consumerKey, shard });
    total += await runInDurableObject(stub, (_i, state) =>
      Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM tokens").one().n),
    );
  }
  return total;
}

describe("grant_type=urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693)", () => {
  let frontend: TestApp;
  let backend: TestApp;
  let user: { username: string; password: string; canonical: string };
  let subject: { access_token: string; refresh_token?: string; scope: string };

  beforeAll(async () => {
    user = await createUser();
    frontend = await createApp();
    backend = await createApp();
    subject = await passwordToken(frontend.keys.PRODUCTION, user, { scope: "read write" });
  });

  async function expectRefused(subjectToken: string, error: string, extra: Record<string, string> = {}) {
    const before = await rowsOf(backend);
    const { status, body } = await exchange(backend.keys.PRODUCTION, subjectToken, extra);
    expect(status).toBe(400);
    expect(body.error).toBe(error);
    expect(body.error_description).toBeTypeOf("string");
    expect(await rowsOf(backend)).toBe(before);
  }

  it("gives another client its own token for the same user, same scope, with issued_token_type", async () => {
    const { status, body, response } = await exchange(backend.keys.PRODUCTION, subject.access_token);
    expect(status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(body).toMatchObject({
      token_type: "Bearer",
      issued_token_type: ACCESS_TOKEN_TYPE,
      scope: "read write",
      expires_in: 3600,
    });
    expect(body.refresh_token).toBeUndefined();
    expect(await introspect(body.access_token as string)).toMatchObject({
      active: true,
      username: user.canonical,
      client_id: backend.keys.PRODUCTION.consumerKey,
    });
  });

  it("narrows the scope on request, and refuses a wider one (invalid_scope)", async () => {
    const narrowed = await exchange(backend.keys.PRODUCTION, subject.access_token, { scope: "read" });
    expect(narrowed.body.scope).toBe("read");
    await expectRefused(subject.access_token, "invalid_scope", { scope: "read admin" });
  });

  it("refuses what is not an active access token of a user: invalid_request, nothing minted", async () => {
    await expectRefused("not-a-token", "invalid_request");
    await expectRefused(subject.refresh_token as string, "invalid_request");
    await expectRefused(await appToken(frontend.keys.PRODUCTION), "invalid_request");
    const doomed = await passwordToken(frontend.keys.PRODUCTION, user);
    await postForm(
      "/revoke",
      { token: doomed.access_token },
      { Authorization: basic(frontend.keys.PRODUCTION) },
    );
    await expectRefused(doomed.access_token, "invalid_request");
  });

  it("refuses other token types, delegation and targets", async () => {
    await expectRefused(subject.access_token, "invalid_request", {
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
    });
    await expectRefused(subject.access_token, "invalid_request", {
      requested_token_type: "urn:ietf:params:oauth:token-type:refresh_token",
    });
    await expectRefused(subject.access_token, "invalid_request", {
      actor_token: subject.access_token,
      actor_token_type: ACCESS_TOKEN_TYPE,
    });
    await expectRefused(subject.access_token, "invalid_target", { audience: "https://elsewhere.example" });
  });

  it("authenticates the client: a wrong secret is 401 invalid_client", async () => {
    const { status, body } = await exchange(
      { consumerKey: backend.keys.PRODUCTION.consumerKey, consumerSecret: "wrong" },
      subject.access_token,
    );
    expect(status).toBe(401);
    expect(body.error).toBe("invalid_client");
  });

  it("does not exchange across tenants", async () => {
    const tenant = `${unique("t")}.example`;
    const owner = await adminJson<{ username: string }>("POST", "/users", {
      username: unique("owner"),
      password: "s3cret-Passw0rd",
      tenant,
    });
    const foreign = await createApp({ owner: owner.username });
    const before = await rowsOf(foreign);
    const { status, body } = await exchange(foreign.keys.PRODUCTION, subject.access_token);
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_request");
    expect(await rowsOf(foreign)).toBe(before);
  });

  it("leaves the exchanged token alive when the subject token is revoked (README)", async () => {
    const own = await passwordToken(frontend.keys.PRODUCTION, user);
    const exchanged = await exchange(backend.keys.PRODUCTION, own.access_token);
    await postForm(
      "/revoke",
      { token: own.access_token },
      { Authorization: basic(frontend.keys.PRODUCTION) },
    );
    expect((await introspect(own.access_token)).active).toBe(false);
    expect((await introspect(exchanged.body.access_token as string)).active).toBe(true);
  });

  it("exchanges JWT access tokens, and issues one for a JWT application", async () => {
    const jwtFrontend = await createApp({ accessTokenFormat: "JWT" });
    const jwtBackend = await createApp({ accessTokenFormat: "JWT" });
    const own = await passwordToken(jwtFrontend.keys.PRODUCTION, user);
    expect(own.access_token).toMatch(JWT);
    const exchanged = await exchange(jwtBackend.keys.PRODUCTION, own.access_token);
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.access_token).toMatch(JWT);
  });

  it("gives a deleted user nothing: the user's tokens are revoked, so there is no subject", async () => {
    const leaving = await createUser();
    const own = await passwordToken(frontend.keys.PRODUCTION, leaving);
    expect((await admin("DELETE", `/users/${encodeURIComponent(leaving.canonical)}`)).status).toBe(204);
    await expectRefused(own.access_token, "invalid_request");
  });

  it("is listed in grant_types_supported", async () => {
    const metadata = (await (await call("/.well-known/oauth-authorization-server")).json()) as {
      grant_types_supported: string[];
    };
    expect(metadata.grant_types_supported).toContain(TOKEN_EXCHANGE);
  });
});

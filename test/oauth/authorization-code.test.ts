import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fnv1a } from "../../src/core/shard-routing";
import { shardStub } from "../../src/durable/names";
import { admin, basic, createApp, createUser, postForm, type TestApp, token } from "../helpers";
import { holdSealing } from "../interleave";
import {
  authorizeCode,
  CALLBACK,
  introspectAsAdmin,
  loginToConsent,
  pkcePair,
  redeem,
  responseParams,
  sha256b64url,
  submitConsent,
} from "./authorize-flow";

async function setup(options: Record<string, unknown> = {}) {
  const app = await createApp({ callbackUrl: CALLBACK, ...options });
  const user = await createUser();
  return { app, user, keys: app.keys.PRODUCTION };
}

async function pkceCode(app: TestApp, user: { username: string; password: string }, extra = {}) {
  const pkce = await pkcePair();
  const { code } = await authorizeCode(app.keys.PRODUCTION, user, {
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
    ...extra,
  });
  return { code, verifier: pkce.verifier };
}

function shardOf(code: string) {
  const [consumerKey, shard] = code.split(".") as [string, string];
  return shardStub(env, { consumerKey, shard: Number(shard) });
}

function expectTokenError(
  result: { status: number; body: Record<string, unknown> },
  error: string,
  status = 400,
) {
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(result.body.error).toBe(error);
  expect(typeof result.body.error_description).toBe("string");
}

describe("grant_type=authorization_code", () => {
  it("a confidential client redeems with its secret: user token + refresh token, no-store", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user, { scope: "read write" });
    const result = await redeem(keys, { code, redirect_uri: CALLBACK });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.response.headers.get("cache-control")).toBe("no-store");
    expect(result.response.headers.get("pragma")).toBe("no-cache");
    expect(result.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "read write" });
    const access = result.body.access_token as string;
    const refresh = result.body.refresh_token as string;
    // On the user's shard, like the password grant.
    const shard = fnv1a(user.canonical) % 16;
    expect(access.startsWith(`${keys.consumerKey}.${shard}.`)).toBe(true);
    expect(await introspectAsAdmin(access)).toMatchObject({
      active: true,
      username: user.canonical,
      client_id: keys.consumerKey,
      scope: "read write",
    });
    // The refresh token works like any other (RFC 6749 §6).
    const refreshed = await token(keys, { grant_type: "refresh_token", refresh_token: refresh });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBeTruthy();
  });

  it("client_secret_post works too", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    expect((await redeem(keys, { code, redirect_uri: CALLBACK }, "post")).status).toBe(200);
  });

  it("a public client redeems with client_id alone and its PKCE verifier", async () => {
    const { app, user, keys } = await setup();
    const { code, verifier } = await pkceCode(app, user);
    const result = await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: verifier }, "public");
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.refresh_token).toBeTruthy();
  });

  it("a confidential client that used PKCE must present the verifier as well", async () => {
    const { app, user, keys } = await setup();
    const { code, verifier } = await pkceCode(app, user);
    expectTokenError(await redeem(keys, { code, redirect_uri: CALLBACK }), "invalid_grant");
    expect((await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: verifier })).status).toBe(200);
  });

  it("client_id alone without PKCE is not client authentication: invalid_client, and the code survives", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const result = await redeem(keys, { code, redirect_uri: CALLBACK }, "public");
    expectTokenError(result, "invalid_client", 401);
    expect(result.response.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(String(result.body.error_description)).toContain("PKCE");
    expect((await redeem(keys, { code, redirect_uri: CALLBACK })).status).toBe(200);
  });

  it("PKCE mismatch is invalid_grant (RFC 7636 §4.6) and does not spend the code", async () => {
    const { app, user, keys } = await setup();
    const { code, verifier } = await pkceCode(app, user);
    const other = (await pkcePair()).verifier;
    expectTokenError(
      await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: other }, "public"),
      "invalid_grant",
    );
    expectTokenError(await redeem(keys, { code, redirect_uri: CALLBACK }, "public"), "invalid_grant");
    const ok = await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: verifier }, "public");
    expect(ok.status).toBe(200);
  });

  it("a malformed code_verifier is invalid_request (RFC 7636 §4.1)", async () => {
    const { app, user, keys } = await setup();
    const { code } = await pkceCode(app, user);
    for (const bad of ["short", "x".repeat(129), `${"a".repeat(43)}+`]) {
      expectTokenError(
        await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: bad }, "public"),
        "invalid_request",
      );
    }
  });

  it("a code_verifier for a code issued without a challenge is refused (PKCE downgrade, RFC 9700 §2.1.1)", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const { verifier } = await pkcePair();
    expectTokenError(
      await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: verifier }),
      "invalid_grant",
    );
  });

  it("redirect_uri must repeat the one of the authorization request (RFC 6749 §4.1.3)", async () => {
    const second = "https://client.example.com/second";
    const { user, keys } = await setup({ callbackUrls: [CALLBACK, second] });
    const { code } = await authorizeCode(keys, user);
    expectTokenError(await redeem(keys, { code, redirect_uri: second }), "invalid_grant");
    expectTokenError(await redeem(keys, { code, redirect_uri: `${CALLBACK}/` }), "invalid_grant");
    expectTokenError(await redeem(keys, { code }), "invalid_request");
    expect((await redeem(keys, { code, redirect_uri: CALLBACK })).status).toBe(200);
  });

  it("when the authorization request left redirect_uri out, the token request may too", async () => {
    const { user, keys } = await setup();
    const consent = await loginToConsent(
      { response_type: "code", client_id: keys.consumerKey, state: "s" },
      user,
    );
    const code = responseParams(await submitConsent(consent, "approve")).get("code") as string;
    expect((await redeem(keys, { code })).status).toBe(200);
    // ... and if it is sent, it must be the registered one.
    const consent2 = await loginToConsent(
      { response_type: "code", client_id: keys.consumerKey, state: "s" },
      user,
    );
    const code2 = responseParams(await submitConsent(consent2, "approve")).get("code") as string;
    expectTokenError(
      await redeem(keys, { code: code2, redirect_uri: "https://client.example.com/x" }),
      "invalid_grant",
    );
    expect((await redeem(keys, { code: code2, redirect_uri: CALLBACK })).status).toBe(200);
  });

  it("another client cannot redeem the code (invalid_grant), and it stays valid for its own client", async () => {
    const { user, keys } = await setup();
    const other = await createApp({ callbackUrl: CALLBACK });
    const { code } = await authorizeCode(keys, user);
    expectTokenError(await redeem(other.keys.PRODUCTION, { code, redirect_uri: CALLBACK }), "invalid_grant");
    expectTokenError(
      await redeem(other.keys.PRODUCTION, { code, redirect_uri: CALLBACK }, "public"),
      "invalid_grant",
    );
    // Another client with a wrong secret is told so (it must authenticate first, RFC 6749 §3.2.1).
    expectTokenError(
      await redeem({ ...other.keys.PRODUCTION, consumerSecret: "wrong" }, { code, redirect_uri: CALLBACK }),
      "invalid_client",
      401,
    );
    expect((await redeem(keys, { code, redirect_uri: CALLBACK })).status).toBe(200);
  });

  it("the SANDBOX key's codes carry SANDBOX scope and are not the PRODUCTION key's", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const { code } = await authorizeCode(app.keys.SANDBOX, user, { scope: "SANDBOX" });
    expectTokenError(await redeem(app.keys.PRODUCTION, { code, redirect_uri: CALLBACK }), "invalid_grant");
    const result = await redeem(app.keys.SANDBOX, { code, redirect_uri: CALLBACK });
    expect(result.status).toBe(200);
    expect(result.body.scope).toBe("SANDBOX");
  });

  it("a wrong secret is invalid_client (401), not a grant error", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const result = await redeem({ ...keys, consumerSecret: "wrong" }, { code, redirect_uri: CALLBACK });
    expectTokenError(result, "invalid_client", 401);
    expect((await redeem(keys, { code, redirect_uri: CALLBACK })).status).toBe(200);
  });

  it("missing, unknown and malformed codes", async () => {
    const { keys } = await setup();
    expectTokenError(await redeem(keys, { redirect_uri: CALLBACK }), "invalid_request");
    expectTokenError(await redeem(keys, { code: "nope", redirect_uri: CALLBACK }), "invalid_grant");
    expectTokenError(
      await redeem(keys, { code: `${keys.consumerKey}.3.${"A".repeat(43)}`, redirect_uri: CALLBACK }),
      "invalid_grant",
    );
    expectTokenError(
      await redeem(keys, { code: `${keys.consumerKey}.63.${"A".repeat(43)}`, redirect_uri: CALLBACK }),
      "invalid_grant",
    );
  });

  it("an expired code is invalid_grant", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    await runInDurableObject(shardOf(code), (_i, state) => {
      state.storage.sql.exec("UPDATE tokens SET expires_at = ? WHERE kind = 'code'", Date.now() - 1);
    });
    const result = await redeem(keys, { code, redirect_uri: CALLBACK });
    expectTokenError(result, "invalid_grant");
    expect(String(result.body.error_description)).toContain("expired");
  });

  it("regenerating the key's secret ends outstanding codes", async () => {
    const { app, user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const regenerated = await admin("POST", `/applications/${app.id}/keys/PRODUCTION/regenerate-secret`);
    const { consumerSecret } = (await regenerated.json()) as { consumerSecret: string };
    const result = await redeem({ ...keys, consumerSecret }, { code, redirect_uri: CALLBACK });
    expectTokenError(result, "invalid_grant");
    expect(String(result.body.error_description)).toContain("revoked");
  });
});

describe("single use (RFC 6749 §4.1.2, §10.5)", () => {
  it("a second use is invalid_grant and revokes the tokens issued with the code", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const first = await redeem(keys, { code, redirect_uri: CALLBACK });
    expect(first.status).toBe(200);
    const access = first.body.access_token as string;
    const refresh = first.body.refresh_token as string;
    expect((await introspectAsAdmin(access)).active).toBe(true);
    const accessHash = await sha256b64url(access);
    // The gateway validates the token (so it may be cached): only such tokens need a purge when they end.
    expect((await shardOf(code).validateAccessToken(accessHash))?.user).toBe(user.canonical);

    // The second use, straight to the owning shard: refused, and it hands back the revoked access token's
    // hash for the caller to purge from the gateway's validation cache (settle() does that at /token).
    const [consumerKey, shard] = code.split(".") as [string, string];
    const route = { consumerKey, shard: Number(shard) };
    const second = await shardOf(code).redeemAuthorizationCode({
      route,
      issuer: "http://localhost:8787",
      credentials: {
        clientId: keys.consumerKey,
        clientSecret: keys.consumerSecret,
        method: "client_secret_basic",
      },
      code,
      redirectUri: CALLBACK,
      codeVerifier: null,
    });
    expect(second.ok).toBe(false);
    if (!second.ok) {
      expect(second.failure.error).toBe("invalid_grant");
      expect(second.failure.description).toContain("already used");
    }
    expect(second.purge).toEqual([accessHash]);
    expect(await introspectAsAdmin(access)).toEqual({ active: false });
    expect(await introspectAsAdmin(refresh)).toEqual({ active: false });
    const refreshed = await token(keys, { grant_type: "refresh_token", refresh_token: refresh });
    expect(refreshed.status).toBe(400);
    // Further uses stay refused, over HTTP as well.
    const third = await redeem(keys, { code, redirect_uri: CALLBACK });
    expectTokenError(third, "invalid_grant");
    expect(String(third.body.error_description)).toContain("already used");
  });

  it("reuse also revokes the tokens the refresh token was rotated into (one family)", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const first = await redeem(keys, { code, redirect_uri: CALLBACK });
    const rotated = await token(keys, {
      grant_type: "refresh_token",
      refresh_token: first.body.refresh_token as string,
    });
    expect(rotated.status).toBe(200);
    expect((await introspectAsAdmin(rotated.body.access_token)).active).toBe(true);
    expectTokenError(await redeem(keys, { code, redirect_uri: CALLBACK }), "invalid_grant");
    expect((await introspectAsAdmin(rotated.body.access_token)).active).toBe(false);
    expect((await introspectAsAdmin(rotated.body.refresh_token as string)).active).toBe(false);
  });

  it("introspection never reports an authorization code as active, to the operator or a client (RFC 7662 §2.2)", async () => {
    const { app, user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    expect(await introspectAsAdmin(code)).toEqual({ active: false });
    for (const caller of [app.keys.PRODUCTION, (await createApp()).keys.PRODUCTION]) {
      const response = await postForm("/introspect", { token: code }, { Authorization: basic(caller) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ active: false });
    }
    // Looking did not spend it: the code still redeems, once.
    const redeemed = await redeem(keys, { code, redirect_uri: CALLBACK });
    expect(redeemed.status).toBe(200);
    expect(await introspectAsAdmin(code)).toEqual({ active: false });
  });

  it("parallel redemptions that all pass the pre-check: exactly one succeeds, and the race revokes what it got", async () => {
    const { app, user, keys } = await setup();
    const { code, verifier } = await pkceCode(app, user);
    // All six requests are held after the shard's pre-check (the code is still active for each) and before
    // its decision: only the re-check inside the transaction can tell them apart (test/interleave.ts).
    const hold = holdSealing(6);
    let results: Awaited<ReturnType<typeof redeem>>[];
    try {
      results = await Promise.all(
        Array.from({ length: 6 }, () =>
          redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: verifier }, "public"),
        ),
      );
    } finally {
      hold.restore();
    }
    expect(hold).toMatchObject({ arrived: 6, releasedBy: "all-arrived" });
    const winners = results.filter((result) => result.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((result) => result.status !== 200)) {
      expectTokenError(loser, "invalid_grant");
      expect(String(loser.body.error_description)).toContain("already used");
    }
    const winner = winners[0] as (typeof results)[0];
    expect(await introspectAsAdmin(winner.body.access_token as string)).toEqual({ active: false });
    expect(await introspectAsAdmin(winner.body.refresh_token as string)).toEqual({ active: false });
    // What is stored: the code and the one pair the winner wrote, all revoked; the losers wrote nothing.
    const rows = (await runInDurableObject(shardOf(code), (_i, state) =>
      state.storage.sql.exec("SELECT kind, state FROM tokens ORDER BY kind").toArray(),
    )) as Array<{ kind: string; state: string }>;
    expect(rows).toEqual([
      { kind: "access", state: "revoked" },
      { kind: "code", state: "revoked" },
      { kind: "refresh", state: "revoked" },
    ]);
  });

  it("the code row is kept hashed, spent, and shares its family with the tokens", async () => {
    const { user, keys } = await setup();
    const { code } = await authorizeCode(keys, user);
    const result = await redeem(keys, { code, redirect_uri: CALLBACK });
    const rows = (await runInDurableObject(shardOf(code), (_i, state) =>
      state.storage.sql
        .exec("SELECT hash, kind, state, family, grant_type FROM tokens ORDER BY kind")
        .toArray(),
    )) as Array<Record<string, string>>;
    const byKind = Object.fromEntries(rows.map((row) => [row.kind, row]));
    expect(Object.keys(byKind).sort()).toEqual(["access", "code", "refresh"]);
    expect(byKind.code?.hash).toBe(await sha256b64url(code));
    expect(byKind.code?.state).toBe("spent");
    expect(byKind.access?.hash).toBe(await sha256b64url(result.body.access_token as string));
    expect(byKind.access?.grant_type).toBe("authorization_code");
    expect(new Set(rows.map((row) => row.family)).size).toBe(1);
    const dump = JSON.stringify(rows);
    for (const secret of [code, result.body.access_token, result.body.refresh_token] as string[]) {
      expect(dump).not.toContain(secret.split(".")[2]);
    }
  });
});

describe("grant registry and endpoints", () => {
  it("an unknown client is invalid_client", async () => {
    const response = await postForm(
      "/token",
      { grant_type: "authorization_code", code: "x", client_id: "unknownclient1234" },
      {},
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "invalid_client" });
  });
});

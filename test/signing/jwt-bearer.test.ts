import { env, runInDurableObject } from "cloudflare:test";
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { registryStub } from "../../src/durable/names";
import { JWT_BEARER } from "../../src/oauth/grants/jwt-bearer";
import {
  admin,
  adminJson,
  basic,
  call,
  createApp,
  createUser,
  introspect,
  type Keys,
  postForm,
  type TestApp,
  unique,
} from "../helpers";

const ORIGIN = "http://localhost:8787";
const TOKEN_ENDPOINT = `${ORIGIN}/token`;
const now = () => Math.floor(Date.now() / 1000);
const jwksServer = () => inject("jwksServer");

interface Issuer {
  id: string;
  issuer: string;
  key: CryptoKey;
  kid: string;
}

async function keyPair(alg = "ES256") {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: unique("kid"), alg, use: "sig" };
  return { privateKey, jwk };
}

/** A trusted issuer with inline keys, or keys served by the JWKS host (`remote`). */
async function trustIssuer(options: { remote?: string; audience?: string } = {}): Promise<Issuer> {
  const { privateKey, jwk } = await keyPair();
  const issuer = `https://idp.example/${unique("tenant")}`;
  let keys: Record<string, unknown>;
  if (options.remote !== undefined) {
    if (options.remote === "") {
      const id = unique("set");
      await fetch(`${jwksServer()}/keys/${id}`, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
      keys = { jwksUri: `${jwksServer()}/keys/${id}` };
    } else keys = { jwksUri: `${jwksServer()}${options.remote}` };
  } else keys = { jwks: { keys: [jwk] } };
  const created = await adminJson<{ id: string }>("POST", "/trusted-issuers", {
    issuer,
    ...keys,
    ...(options.audience ? { audience: options.audience } : {}),
  });
  return { id: created.id, issuer, key: privateKey, kid: jwk.kid };
}

async function assertion(
  issuer: Issuer,
  claims: JWTPayload,
  options: { key?: CryptoKey; kid?: string } = {},
) {
  return new SignJWT({
    iss: issuer.issuer,
    aud: TOKEN_ENDPOINT,
    exp: now() + 300,
    iat: now(),
    jti: unique("jti"),
    ...claims,
  })
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? issuer.kid })
    .sign(options.key ?? issuer.key);
}

async function grant(keys: Keys, jwt: string, extra: Record<string, string> = {}) {
  const response = await postForm(
    "/token",
    { grant_type: JWT_BEARER, assertion: jwt, ...extra },
    { Authorization: basic(keys) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, response };
}

async function usedAssertions(): Promise<number> {
  return runInDurableObject(registryStub(env), (_i, state) =>
    Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM used_assertions").one().n),
  );
}

async function expectRefused(keys: Keys, jwt: string, description: RegExp) {
  const before = await usedAssertions();
  const { status, body, response } = await grant(keys, jwt);
  expect(status).toBe(400);
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(body.error).toBe("invalid_grant");
  expect(body.error_description).toMatch(description);
  expect(await usedAssertions()).toBe(before);
}

describe("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 §2.1)", () => {
  let app: TestApp;
  let keys: Keys;
  let user: { username: string; canonical: string };
  let idp: Issuer;

  beforeAll(async () => {
    app = await createApp();
    keys = app.keys.PRODUCTION;
    user = await createUser();
    idp = await trustIssuer();
  });

  it("issues a user access token, no refresh token, for an assertion of a trusted issuer", async () => {
    const { status, body, response } = await grant(keys, await assertion(idp, { sub: user.username }), {
      scope: "read",
    });
    expect(status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "read" });
    expect(body.refresh_token).toBeUndefined();
    expect(await introspect(body.access_token as string)).toMatchObject({
      active: true,
      username: user.canonical,
      client_id: keys.consumerKey,
    });
  });

  it("names the user as alice, alice@tenant or FOO/alice; audience the token endpoint or the issuer", async () => {
    const secondary = await adminJson<{ username: string }>("POST", "/users", {
      username: unique("sec"),
      password: "s3cret-Passw0rd",
      userStoreDomain: "FOO",
    });
    for (const [sub, aud, expected] of [
      [user.canonical, ORIGIN, user.canonical],
      [secondary.username.replace(/@carbon\.super$/, ""), TOKEN_ENDPOINT, secondary.username],
    ] as const) {
      const { status, body } = await grant(keys, await assertion(idp, { sub, aud }));
      expect(status, sub).toBe(200);
      expect((await introspect(body.access_token as string)).username).toBe(expected);
    }
  });

  it("refuses a bad signature, an unknown issuer, a wrong audience, without recording anything", async () => {
    const other = await keyPair();
    await expectRefused(
      keys,
      await assertion(idp, { sub: user.username }, { key: other.privateKey }),
      /signature/,
    );
    await expectRefused(
      keys,
      await assertion(idp, { sub: user.username, iss: "https://evil.example" }),
      /not trusted/,
    );
    await expectRefused(
      keys,
      await assertion(idp, { sub: user.username, aud: "https://elsewhere.example/token" }),
      /aud/,
    );
  });

  it("checks exp, nbf and iat with a 30 s tolerance, and refuses an assertion that lives too long", async () => {
    await expectRefused(keys, await assertion(idp, { sub: user.username, exp: now() - 60 }), /expired/);
    await expectRefused(
      keys,
      await assertion(idp, { sub: user.username, nbf: now() + 120 }),
      /not yet valid/,
    );
    await expectRefused(keys, await assertion(idp, { sub: user.username, iat: now() + 120 }), /future/);
    await expectRefused(keys, await assertion(idp, { sub: user.username, exp: now() + 7200 }), /3600 s/);
    // Within the tolerance: accepted.
    const late = await grant(
      keys,
      await assertion(idp, { sub: user.username, exp: now() - 10, nbf: now() + 10 }),
    );
    expect(late.status).toBe(200);
  });

  it("refuses a reused jti, and one without jti", async () => {
    const jwt = await assertion(idp, { sub: user.username });
    expect((await grant(keys, jwt)).status).toBe(200);
    await expectRefused(keys, jwt, /used before/);
    const noJti = await new SignJWT({
      iss: idp.issuer,
      aud: TOKEN_ENDPOINT,
      sub: user.username,
      exp: now() + 60,
    })
      .setProtectedHeader({ alg: "ES256", kid: idp.kid })
      .sign(idp.key);
    await expectRefused(keys, noJti, /jti/);
  });

  it("refuses an unknown or deleted user without spending the jti", async () => {
    const ghost = unique("ghost");
    const jwt = await assertion(idp, { sub: ghost });
    await expectRefused(keys, jwt, /not a known user/);
    // Nothing was recorded: once the user exists, the very same assertion is accepted.
    await adminJson("POST", "/users", { username: ghost, password: "s3cret-Passw0rd" });
    expect((await grant(keys, jwt)).status).toBe(200);

    const doomed = await createUser();
    expect((await admin("DELETE", `/users/${encodeURIComponent(doomed.canonical)}`)).status).toBe(204);
    await expectRefused(keys, await assertion(idp, { sub: doomed.username }), /not a known user/);
  });

  it("accepts asymmetric signatures only: HS256 and alg none are refused", async () => {
    const hs = await new SignJWT({
      iss: idp.issuer,
      aud: TOKEN_ENDPOINT,
      sub: user.username,
      exp: now() + 60,
      jti: unique("j"),
    })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("a-shared-secret-of-thirty-two-bytes!"));
    await expectRefused(keys, hs, /./);
    const [, payload] = hs.split(".");
    await expectRefused(keys, `eyJhbGciOiJub25lIn0.${payload}.`, /./);
    await expectRefused(keys, "not-a-jwt", /not a JWT/);
  });

  it("authenticates the client first: a wrong secret is 401 invalid_client", async () => {
    const response = await postForm(
      "/token",
      { grant_type: JWT_BEARER, assertion: await assertion(idp, { sub: user.username }) },
      { Authorization: basic({ consumerKey: keys.consumerKey, consumerSecret: "wrong" }) },
    );
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_client");
  });

  it("honours an issuer's configured audience", async () => {
    const custom = await trustIssuer({ audience: "urn:edge-key-manager" });
    expect(
      (await grant(keys, await assertion(custom, { sub: user.username, aud: "urn:edge-key-manager" })))
        .status,
    ).toBe(200);
    await expectRefused(keys, await assertion(custom, { sub: user.username }), /aud/);
  });

  it("forgets used assertions once they have expired (bounded replay storage)", async () => {
    await runInDurableObject(registryStub(env), (_i, state) => {
      for (let i = 0; i < 50; i++) {
        state.storage.sql.exec(
          "INSERT INTO used_assertions (issuer_id, jti_hash, expires_at) VALUES (?, ?, ?)",
          idp.id,
          `old-${i}`,
          Date.now() - 1000,
        );
      }
    });
    const before = await usedAssertions();
    expect((await grant(keys, await assertion(idp, { sub: user.username }))).status).toBe(200);
    expect(await usedAssertions()).toBeLessThanOrEqual(before - 50 + 1);
  });

  it("is listed in grant_types_supported", async () => {
    const metadata = (await (await call("/.well-known/oauth-authorization-server")).json()) as {
      grant_types_supported: string[];
    };
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
  });
});

describe("trusted issuers with a remote jwksUri", () => {
  let keys: Keys;
  let user: { username: string };
  beforeAll(async () => {
    keys = (await createApp()).keys.PRODUCTION;
    user = await createUser();
  });

  it("fetches the issuer's JWKS from its jwksUri and caches it", async () => {
    const idp = await trustIssuer({ remote: "" });
    const setId = (await adminJson<{ jwksUri: string }>("GET", `/trusted-issuers/${idp.id}`)).jwksUri
      .split("/")
      .pop() as string;
    for (let i = 0; i < 3; i++) {
      expect((await grant(keys, await assertion(idp, { sub: user.username }))).status).toBe(200);
    }
    expect(Number(await (await fetch(`${jwksServer()}/fetches/${setId}`)).text())).toBe(1);
  });

  it("gives up on a JWKS host that hangs: invalid_grant after the timeout, never a 5xx", async () => {
    const idp = await trustIssuer({ remote: "/hang" });
    const started = Date.now();
    await expectRefused(keys, await assertion(idp, { sub: user.username }), /did not arrive in time/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("refuses the assertion when the JWKS host answers an error", async () => {
    const idp = await trustIssuer({ remote: "/status/500" });
    await expectRefused(keys, await assertion(idp, { sub: user.username }), /./);
  });
});

describe("/admin/trusted-issuers", () => {
  it("creates, lists, reads and deletes; a deleted issuer is no longer trusted", async () => {
    const idp = await trustIssuer();
    const listed = await adminJson<Array<{ id: string }>>("GET", "/trusted-issuers");
    expect(listed.map((entry) => entry.id)).toContain(idp.id);
    expect(await adminJson("GET", `/trusted-issuers/${idp.id}`)).toMatchObject({
      issuer: idp.issuer,
      jwksUri: null,
    });
    const app = await createApp();
    const user = await createUser();
    const jwt = await assertion(idp, { sub: user.username });
    expect((await admin("DELETE", `/trusted-issuers/${idp.id}`)).status).toBe(204);
    expect((await admin("GET", `/trusted-issuers/${idp.id}`)).status).toBe(404);
    const refused = await grant(app.keys.PRODUCTION, jwt);
    expect(refused.body.error).toBe("invalid_grant");
  });

  it("refuses private keys, both or neither key source, and a duplicate issuer", async () => {
    const { jwk } = await keyPair();
    const pair = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = await exportJWK(pair.privateKey);
    const issuer = `https://idp.example/${unique("dup")}`;
    const post = (body: unknown) => admin("POST", "/trusted-issuers", body);
    expect((await post({ issuer, jwks: { keys: [privateJwk] } })).status).toBe(400);
    expect((await post({ issuer, jwks: { keys: [jwk] }, jwksUri: "https://idp.example/jwks" })).status).toBe(
      400,
    );
    expect((await post({ issuer })).status).toBe(400);
    expect((await post({ issuer, jwksUri: "ftp://idp.example/jwks" })).status).toBe(400);
    expect((await post({ issuer, jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } })).status).toBe(400);
    expect((await post({ issuer, jwks: { keys: [jwk] } })).status).toBe(201);
    expect((await post({ issuer, jwks: { keys: [jwk] } })).status).toBe(409);
  });
});

import { env, SELF } from "cloudflare:test";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { parseTokenRoute } from "../../src/core/token-format";
import { shardStub } from "../../src/durable/names";
import { appToken, callApi, echoOf, subscribedCaller, validationCached } from "../gateway/gateway-helpers";
import {
  admin,
  adminJson,
  basic,
  createApp,
  createUser,
  introspect,
  passwordToken,
  postForm,
  refresh,
  type TestApp,
  token,
} from "../helpers";
import { kvText, servedKeySet, storageText } from "./signing-helpers";

const ISSUER = "http://localhost:8787";
const JWT = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const jwtApp = (options: Record<string, unknown> = {}) => createApp({ accessTokenFormat: "JWT", ...options });

async function verified(accessToken: string) {
  return jwtVerify(accessToken, await servedKeySet(), {
    issuer: ISSUER,
    audience: ISSUER,
    typ: "at+jwt",
    algorithms: ["ES256"],
  });
}

const shardOf = (accessToken: string) => {
  const route = parseTokenRoute(accessToken);
  if (!route) throw new Error("no route");
  return shardStub(env, route);
};

describe("JWT access tokens (RFC 9068), per application", () => {
  it("issues an at+jwt with every RFC 9068 claim for client_credentials; sub is the client", async () => {
    const app = await jwtApp();
    const keys = app.keys.PRODUCTION;
    const { status, body } = await token(keys, {
      grant_type: "client_credentials",
      scope: "read PRODUCTION",
    });
    expect(status).toBe(200);
    expect(body.access_token).toMatch(JWT);
    expect(body.expires_in).toBe(3600);
    const { payload, protectedHeader } = await verified(body.access_token);
    expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(Object.keys(payload).sort()).toEqual([
      "aud",
      "client_id",
      "exp",
      "iat",
      "iss",
      "jti",
      "scope",
      "sub",
    ]);
    expect(payload).toMatchObject({
      iss: ISSUER,
      aud: ISSUER,
      sub: keys.consumerKey,
      client_id: keys.consumerKey,
      scope: "read PRODUCTION",
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    // The jti is an opaque token's shape: it names the shard that holds the token's hash.
    expect(payload.jti).toMatch(new RegExp(`^${keys.consumerKey}\\.[0-9]+\\.[A-Za-z0-9_-]{43}$`));
    expect(parseTokenRoute(body.access_token)).toEqual(parseTokenRoute(payload.jti as string));
  });

  it("passes a strict RFC 9068 resource-server check (oauth4webapi validateJwtAccessToken)", async () => {
    const user = await createUser();
    const app = await jwtApp();
    const { access_token } = await passwordToken(app.keys.PRODUCTION, user);
    const as = (await (
      await SELF.fetch(`${ISSUER}/.well-known/oauth-authorization-server`)
    ).json()) as oauth.AuthorizationServer;
    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request(`${ISSUER}/any/1.0.0`, { headers: { Authorization: `Bearer ${access_token}` } }),
      ISSUER,
      {
        [oauth.customFetch]: (url: string, init: RequestInit) => SELF.fetch(url, init),
        [oauth.allowInsecureRequests]: true,
      },
    );
    expect(claims.sub).toBe(user.canonical);
    expect(claims.client_id).toBe(app.keys.PRODUCTION.consumerKey);
  });

  it("works at the gateway and /introspect, and is refused by both once revoked", async () => {
    const { path, accessToken, app } = await subscribedCaller({ accessTokenFormat: "JWT" });
    expect(accessToken).toMatch(JWT);
    const echo = await echoOf(await callApi(`${path}/x`, accessToken));
    expect(echo.headers["x-ekm-consumer-key"]).toBe(app.keys.PRODUCTION.consumerKey);
    await validationCached(accessToken);
    expect(await introspect(accessToken)).toMatchObject({
      active: true,
      client_id: app.keys.PRODUCTION.consumerKey,
    });

    const revoked = await postForm(
      "/revoke",
      { token: accessToken },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get("RevokedAccessToken")).toBe(accessToken);
    expect((await callApi(`${path}/x`, accessToken)).status).toBe(401);
    expect(await introspect(accessToken)).toEqual({ active: false });
  });

  it("refuses a JWT whose payload or signature was altered, even with a live jti", async () => {
    const { path, accessToken } = await subscribedCaller({ accessTokenFormat: "JWT" });
    const [header, payload, signature] = accessToken.split(".") as [string, string, string];
    const claims = decodeJwt(accessToken);
    const wider = btoa(JSON.stringify({ ...claims, scope: "admin" }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    for (const forged of [`${header}.${wider}.${signature}`, `${header}.${payload}.${flipped}`]) {
      expect(parseTokenRoute(forged)).toEqual(parseTokenRoute(accessToken));
      expect((await callApi(`${path}/x`, forged)).status).toBe(401);
      expect(await introspect(forged)).toEqual({ active: false });
    }
    expect((await callApi(`${path}/x`, accessToken)).status).toBe(200);
  });

  it("refreshes like an opaque token: new JWT, the old one and the spent refresh token stop working", async () => {
    const user = await createUser();
    const app = await jwtApp();
    const first = await passwordToken(app.keys.PRODUCTION, user);
    expect(first.refresh_token).not.toMatch(JWT);
    const { payload } = await verified(first.access_token);
    expect(payload.sub).toBe(user.canonical);

    const rotated = await refresh(app.keys.PRODUCTION, first.refresh_token as string);
    expect(rotated.status).toBe(200);
    expect(rotated.body.access_token).toMatch(JWT);
    expect((await verified(rotated.body.access_token)).payload.sub).toBe(user.canonical);
    expect((await introspect(first.access_token)).active).toBe(false);
    expect((await introspect(rotated.body.access_token)).active).toBe(true);

    // Revoking the new refresh token revokes its JWT sibling (the revocation headers name it).
    const revoked = await postForm(
      "/revoke",
      { token: rotated.body.refresh_token as string },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    expect(revoked.headers.get("RevokedAccessToken")).toBe(rotated.body.access_token);
    expect((await introspect(rotated.body.access_token)).active).toBe(false);
  });

  it("regeneration revokes the previous JWT and issues a new one", async () => {
    const { path, accessToken, app } = await subscribedCaller({ accessTokenFormat: "JWT" });
    expect((await callApi(`${path}/x`, accessToken)).status).toBe(200);
    const regenerated = await adminJson<{ access_token: string }>(
      "POST",
      `/applications/${app.id}/keys/PRODUCTION/regenerate-token`,
    );
    expect(regenerated.access_token).toMatch(JWT);
    await verified(regenerated.access_token);
    expect((await callApi(`${path}/x`, accessToken)).status).toBe(401);
    expect((await callApi(`${path}/x`, regenerated.access_token)).status).toBe(200);
  });

  it("is never stored in plaintext: not in the shard's storage, not in KV", async () => {
    const user = await createUser();
    const { path, app } = await subscribedCaller({ accessTokenFormat: "JWT", owner: user.username });
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    expect((await callApi(`${path}/x`, pair.access_token)).status).toBe(200);
    await validationCached(pair.access_token);
    const signature = pair.access_token.split(".")[2] as string;
    const jti = decodeJwt(pair.access_token).jti as string;
    const stored = `${await storageText(shardOf(pair.access_token))}\n${await kvText()}`;
    expect(stored).toContain(app.keys.PRODUCTION.consumerKey);
    for (const secret of [pair.access_token, signature, jti.split(".")[2] as string]) {
      expect(stored).not.toContain(secret);
    }
  });

  it("follows the application's setting: opaque by default, switchable, old tokens keep working", async () => {
    const app: TestApp & { accessTokenFormat?: string } = await createApp();
    expect(app.accessTokenFormat).toBe("opaque");
    expect(await appToken(app.keys.PRODUCTION)).not.toMatch(JWT);
    const updated = await adminJson<{ accessTokenFormat: string }>("PATCH", `/applications/${app.id}`, {
      accessTokenFormat: "jwt",
    });
    expect(updated.accessTokenFormat).toBe("JWT");
    const jwt = await appToken(app.keys.PRODUCTION);
    expect(jwt).toMatch(JWT);
    await adminJson("PATCH", `/applications/${app.id}`, { accessTokenFormat: "opaque" });
    expect(await appToken(app.keys.PRODUCTION)).not.toMatch(JWT);
    expect((await introspect(jwt)).active).toBe(true);
    expect((await admin("PATCH", `/applications/${app.id}`, { accessTokenFormat: "saml" })).status).toBe(400);
  });

  it("gives a never-expiring token a far exp, matching its expires_in, and keeps the key for it", async () => {
    const app = await jwtApp({ accessTokenValidity: -1 });
    const { body } = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    const { payload } = await verified(body.access_token);
    expect((payload.exp as number) - (payload.iat as number)).toBe(body.expires_in);
    expect(body.expires_in).toBe(2147483647);
    const kid = decodeProtectedHeader(body.access_token).kid;
    const keys = await adminJson<{ keys: Array<{ kid: string; publishedUntil: string }> }>(
      "GET",
      "/signing-keys",
    );
    const published = Date.parse(keys.keys.find((key) => key.kid === kid)?.publishedUntil ?? "");
    expect(published).toBeGreaterThanOrEqual((payload.exp as number) * 1000);
  });
});

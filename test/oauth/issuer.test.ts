import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { readIssuer } from "../../src/core/issuer";
import app from "../../src/index";
import { backend, createApi, subscribe } from "../gateway/gateway-helpers";
import { basic, createApp, createUser, form } from "../helpers";
import { CALLBACK } from "./authorize-flow";

const PINNED = "https://keys.example.com";

/** The Worker with ISSUER pinned (and any other vars), reached at a hostile Host. */
async function fetchWith(
  vars: Record<string, string>,
  path: string,
  init: RequestInit = {},
  origin = "http://evil.example",
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${origin}${path}`, init), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const pinned = { ISSUER: PINNED };

describe("ISSUER pins the issuer (README Configuration)", () => {
  it("accepts an origin only, and requires it (over https) when ENVIRONMENT is production", () => {
    expect(readIssuer("https://keys.example.com", "development")).toBe("https://keys.example.com");
    expect(readIssuer(" https://keys.example.com/ ", "production")).toBe("https://keys.example.com");
    expect(readIssuer("http://localhost:8787", "development")).toBe("http://localhost:8787");
    expect(readIssuer("", "development")).toBeNull();
    expect(readIssuer(undefined, "staging")).toBeNull();
    for (const bad of [
      "keys.example.com",
      "https://keys.example.com/oauth",
      "https://keys.example.com?x=1",
      "https://keys.example.com#x",
      "https://user:pw@keys.example.com",
      "ftp://keys.example.com",
    ]) {
      expect(() => readIssuer(bad, "development"), bad).toThrow(/ISSUER/);
    }
    expect(() => readIssuer("", "production")).toThrow(/ISSUER must be set when ENVIRONMENT is production/);
    expect(() => readIssuer("http://keys.example.com", "production")).toThrow(/https/);
  });

  it("fails clearly when production has no ISSUER: a 500 that names the setting", async () => {
    const response = await fetchWith(
      { ENVIRONMENT: "production" },
      "/.well-known/oauth-authorization-server",
    );
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe("server_error");
    expect(body.error_description).toContain("ISSUER");
    const bad = await fetchWith({ ISSUER: "https://keys.example.com/x" }, "/health");
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain("ISSUER");
  });

  it("metadata names the pinned issuer whatever Host the request carries; unset, the request's origin", async () => {
    const body = (await (
      await fetchWith(pinned, "/.well-known/oauth-authorization-server")
    ).json()) as Record<string, string>;
    expect(body.issuer).toBe(PINNED);
    for (const field of ["authorization_endpoint", "token_endpoint", "revocation_endpoint", "jwks_uri"]) {
      expect(body[field]?.startsWith(`${PINNED}/`), field).toBe(true);
    }
    const unpinned = await fetchWith({}, "/.well-known/oauth-authorization-server");
    expect(((await unpinned.json()) as Record<string, string>).issuer).toBe("http://evil.example");
  });

  it("JWT access tokens carry the pinned iss and aud", async () => {
    const jwtApp = await createApp({ accessTokenFormat: "JWT" });
    const response = await fetchWith(pinned, "/token", {
      method: "POST",
      headers: {
        Authorization: basic(jwtApp.keys.PRODUCTION),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: form({ grant_type: "client_credentials" }),
    });
    expect(response.status).toBe(200);
    const claims = decodeJwt(((await response.json()) as { access_token: string }).access_token);
    expect(claims.iss).toBe(PINNED);
    expect(claims.aud).toBe(PINNED);
  });

  it("the authorization response's iss (RFC 9207) is the pinned issuer", async () => {
    const client = await createApp({ callbackUrl: CALLBACK });
    const query = new URLSearchParams({
      response_type: "bogus",
      client_id: client.keys.PRODUCTION.consumerKey,
      redirect_uri: CALLBACK,
      state: "s",
    });
    const response = await fetchWith(pinned, `/authorize?${query}`, { redirect: "manual" });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") as string);
    expect(location.searchParams.get("iss")).toBe(PINNED);
  });

  it("X-JWT-Assertion names the pinned issuer", async () => {
    const user = await createUser();
    const client = await createApp({ owner: user.username });
    const api = await createApi();
    await subscribe(client, api);
    const issued = await fetchWith(pinned, "/token", {
      method: "POST",
      headers: {
        Authorization: basic(client.keys.PRODUCTION),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: form({ grant_type: "client_credentials" }),
    });
    const { access_token } = (await issued.json()) as { access_token: string };
    const response = await fetchWith(pinned, `${api.context}/${api.version}/x`, {
      headers: { Authorization: `Bearer ${access_token}` },
    });
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(backend()).toBeTruthy();
    expect(decodeJwt(echo.headers["x-jwt-assertion"] as string).iss).toBe(PINNED);
  });
});

import { decodeJwt, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  appToken,
  callApi,
  callWithVars,
  createApi,
  echoOf,
  subscribe,
  subscribedCaller,
} from "../gateway/gateway-helpers";
import { adminJson, createApp, createUser, passwordToken } from "../helpers";
import { servedKeySet } from "./signing-helpers";

const CLAIM = "http://wso2.org/claims/";

async function forwarded(path: string, token: string, headers: Record<string, string> = {}) {
  return echoOf(await callApi(`${path}/echo`, token, { headers }));
}

async function verifiedAssertion(jwt: string | undefined) {
  expect(jwt).toBeTypeOf("string");
  const { payload, protectedHeader } = await jwtVerify(jwt as string, await servedKeySet(), {
    issuer: "http://localhost:8787",
    algorithms: ["ES256"],
  });
  return { payload, protectedHeader };
}

describe("X-JWT-Assertion on forwarded calls (WSO2 JWT generation)", () => {
  it("carries every claim of a user token, signed with a published key", async () => {
    const user = await createUser();
    const api = await createApi();
    // The application's own tier, not a default: applicationtier is what the application was given.
    const app = await createApp({ owner: user.username, tier: "Silver" });
    const sub = await subscribe(app, api);
    await adminJson("PATCH", `/subscriptions/${sub.id}`, { tier: "Gold" });
    const tokens = await passwordToken(app.keys.PRODUCTION, user);
    const before = Math.floor(Date.now() / 1000);
    const echo = await forwarded(`${api.context}/${api.version}`, tokens.access_token);
    const { payload, protectedHeader } = await verifiedAssertion(echo.headers["x-jwt-assertion"]);

    expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "JWT" });
    expect(protectedHeader.kid).toBeTypeOf("string");
    expect(payload).toEqual({
      iss: "http://localhost:8787",
      sub: user.canonical,
      iat: payload.iat,
      exp: payload.exp,
      [`${CLAIM}subscriber`]: user.canonical,
      [`${CLAIM}applicationid`]: app.id,
      [`${CLAIM}applicationname`]: app.name,
      [`${CLAIM}applicationtier`]: "Silver",
      [`${CLAIM}apicontext`]: `${api.context}/${api.version}`,
      [`${CLAIM}version`]: "1.0.0",
      [`${CLAIM}tier`]: "Gold",
      [`${CLAIM}keytype`]: "PRODUCTION",
      [`${CLAIM}usertype`]: "APPLICATION_USER",
      [`${CLAIM}enduser`]: user.canonical,
      [`${CLAIM}enduserTenantId`]: "-1234",
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    // JWT_ASSERTION_VALIDITY (900 s), well inside the token's hour.
    expect(payload.exp).toBe((payload.iat as number) + 900);
    // The plain identity headers stay.
    expect(echo.headers["x-ekm-end-user"]).toBe(user.canonical);
  });

  it("describes an application token as APPLICATION, its owner as end user, on the SANDBOX key", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const token = await appToken(app.keys.SANDBOX);
    const echo = await forwarded(`${api.context}/${api.version}`, token);
    const { payload } = await verifiedAssertion(echo.headers["x-jwt-assertion"]);
    expect(payload).toMatchObject({
      sub: "admin@carbon.super",
      [`${CLAIM}usertype`]: "APPLICATION",
      [`${CLAIM}enduser`]: "admin@carbon.super",
      [`${CLAIM}subscriber`]: "admin@carbon.super",
      [`${CLAIM}keytype`]: "SANDBOX",
      [`${CLAIM}tier`]: "Unlimited",
    });
  });

  it("never expires after the token it stands for", async () => {
    const { path, accessToken } = await subscribedCaller({ accessTokenValidity: 120 });
    const echo = await forwarded(path, accessToken);
    const { payload } = await verifiedAssertion(echo.headers["x-jwt-assertion"]);
    const lifetime = (payload.exp as number) - (payload.iat as number);
    expect(lifetime).toBeGreaterThan(100);
    expect(lifetime).toBeLessThanOrEqual(120);
  });

  it("replaces what the client sent under that name, also spelled with underscores", async () => {
    const { path, accessToken } = await subscribedCaller();
    const forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.";
    const echo = await forwarded(path, accessToken, {
      "X-JWT-Assertion": forged,
      X_JWT_Assertion: forged,
      "x-jwt_assertion": forged,
      X_Ekm_End_User: "mallory",
    });
    expect(echo.headers["x-jwt-assertion"]).not.toBe(forged);
    await verifiedAssertion(echo.headers["x-jwt-assertion"]);
    expect(JSON.stringify(echo.headers)).not.toContain(forged);
    expect(JSON.stringify(echo.headers)).not.toContain("mallory");
  });

  it("reuses the signed assertion for the same token and API, and signs anew for another API or tier", async () => {
    const user = await createUser();
    const app = await createApp({ owner: user.username });
    const [first, second] = [await createApi(), await createApi()];
    const sub = await subscribe(app, first);
    await subscribe(app, second);
    const { access_token: token } = await passwordToken(app.keys.PRODUCTION, user);
    const path = (api: typeof first) => `${api.context}/${api.version}`;

    const a1 = (await forwarded(path(first), token)).headers["x-jwt-assertion"];
    const a2 = (await forwarded(path(first), token)).headers["x-jwt-assertion"];
    expect(a2).toBe(a1);
    const b = (await forwarded(path(second), token)).headers["x-jwt-assertion"];
    expect(b).not.toBe(a1);
    expect(decodeJwt(b as string)[`${CLAIM}apicontext`]).toBe(path(second));

    // A change of what it states (the subscription's tier) is never hidden by the reuse.
    await adminJson("PATCH", `/subscriptions/${sub.id}`, { tier: "Silver" });
    let tiered: string | undefined;
    for (let i = 0; i < 50 && (tiered === undefined || tiered === a1); i++) {
      tiered = (await forwarded(path(first), token)).headers["x-jwt-assertion"];
    }
    expect(decodeJwt(tiered as string)[`${CLAIM}tier`]).toBe("Silver");
  });

  it("is configurable: another header name, or none with JWT_GENERATION=false (the client's still removed)", async () => {
    const { path, accessToken } = await subscribedCaller();
    const headers = { Authorization: `Bearer ${accessToken}`, "X-JWT-Assertion": "forged" };
    const renamed = await echoOf(
      await callWithVars({ JWT_HEADER: "X-Backend-Identity" }, `${path}/echo`, { headers }),
    );
    await verifiedAssertion(renamed.headers["x-backend-identity"]);
    expect(renamed.headers["x-jwt-assertion"]).toBe("forged");

    const off = await echoOf(await callWithVars({ JWT_GENERATION: "false" }, `${path}/echo`, { headers }));
    expect(off.headers["x-jwt-assertion"]).toBeUndefined();
    expect(off.headers["x-ekm-consumer-key"]).toBeTypeOf("string");
  });
});

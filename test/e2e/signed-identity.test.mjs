// End to end: signed identity under a real `wrangler dev` (ephemeral port). The backend is a real HTTP server (an
// ephemeral loopback port) that trusts nothing but a valid X-JWT-Assertion: it verifies it with jose against
// the JWKS it fetches from the service, as README "Signed identity" tells a backend to do.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { adminCall, startWranglerDev } from "./wrangler-dev.mjs";

const CLAIM = "http://wso2.org/claims/";

/** A backend that answers 200 with the verified claims, or 401 when the assertion is missing or does not verify. */
async function startVerifyingBackend(issuer) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const server = createServer(async (request, response) => {
    const assertion = request.headers["x-jwt-assertion"];
    try {
      if (typeof assertion !== "string") throw new Error("no X-JWT-Assertion");
      const { payload } = await jwtVerify(assertion, jwks, { issuer, algorithms: ["ES256"] });
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(payload));
    } catch (error) {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: error.message }));
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe("signed identity against wrangler dev", () => {
  let server;
  let backend;
  let accessToken;
  let app;

  before(async () => {
    server = await startWranglerDev();
    // The issuer is the origin the service is reached at; the backend calls it by the same one.
    backend = await startVerifyingBackend(server.origin);
    await adminCall(server, "POST", "/users", { username: "carol", password: "carol-Passw0rd" });
    const api = await adminCall(server, "POST", "/apis", {
      name: "Weather",
      context: "weather",
      version: "2.0.0",
      productionEndpoint: backend.url,
    });
    app = await adminCall(server, "POST", "/applications", { name: "forecaster", owner: "carol" });
    await adminCall(server, "POST", "/subscriptions", { applicationId: app.id, apiId: api.id, tier: "Gold" });
    const keys = app.keys.PRODUCTION;
    const answer = await fetch(`${server.origin}/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=password&username=carol&password=carol-Passw0rd",
    });
    accessToken = (await answer.json()).access_token;
  });

  after(async () => {
    await backend?.close();
    await server?.stop();
  });

  it("the backend verifies the X-JWT-Assertion with jose against the served JWKS", async () => {
    const response = await fetch(`${server.origin}/weather/2.0.0/today`, {
      headers: { Authorization: `Bearer ${accessToken}`, "X-JWT-Assertion": "forged.by.client" },
    });
    const claims = await response.json();
    assert.equal(response.status, 200, JSON.stringify(claims));
    assert.equal(claims.iss, server.origin);
    assert.equal(claims.sub, "carol@carbon.super");
    assert.equal(claims[`${CLAIM}enduser`], "carol@carbon.super");
    assert.equal(claims[`${CLAIM}applicationname`], "forecaster");
    assert.equal(claims[`${CLAIM}apicontext`], "/weather/2.0.0");
    assert.equal(claims[`${CLAIM}tier`], "Gold");
    assert.equal(claims[`${CLAIM}usertype`], "APPLICATION_USER");
  });

  it("still verifies after a key rotation, for assertions signed before and after it", async () => {
    const before = await fetch(`${server.origin}/weather/2.0.0/today`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    assert.equal(before.status, 200);
    await adminCall(server, "POST", "/signing-keys/rotate");
    const afterRotation = await fetch(`${server.origin}/weather/2.0.0/today`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    assert.equal(afterRotation.status, 200, await afterRotation.clone().text());
  });
});

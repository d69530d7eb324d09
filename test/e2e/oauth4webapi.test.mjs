// A strict third-party client library (oauth4webapi) against `wrangler dev`: metadata discovery (RFC 8414),
// the authorization response (with RFC 9207 `iss`), the code + PKCE token request, refresh, introspection and
// revocation all have to pass its validation. The login and consent forms are driven with plain fetch.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as oauth from "oauth4webapi";
import { adminCall, startWranglerDev } from "./wrangler-dev.mjs";

// The client application's callback: never contacted (nothing listens there), redirects are read from the
// Location header.
const CALLBACK = "http://127.0.0.1:8797/cb";
const insecure = { [oauth.allowInsecureRequests]: true };

/** Plays the browser through /authorize: login page, login form, consent form; returns the final Location. */
async function browse(authorizationUrl, { username, password, decision = "approve" }) {
  const page = await fetch(authorizationUrl, { redirect: "manual" });
  assert.equal(page.status, 200, await page.clone().text());
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0];
  assert.match(cookie, /^ekm_authz=/);
  const field = (html) => /name="authz" value="([^"]+)"/.exec(html)?.[1];
  const post = (path, params) =>
    fetch(new URL(path, authorizationUrl), {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
      body: new URLSearchParams(params).toString(),
    });
  const consent = await post("/authorize/login", { authz: field(await page.text()), username, password });
  const consentHtml = await consent.text();
  assert.equal(consent.status, 200);
  const answer = await post("/authorize/consent", { authz: field(consentHtml), decision });
  assert.equal(answer.status, 303);
  return new URL(answer.headers.get("location"));
}

describe("oauth4webapi against the service", { timeout: 120_000 }, () => {
  let server;
  let as;
  let app;

  before(async () => {
    server = await startWranglerDev();
    await adminCall(server, "POST", "/users", { username: "carol", password: "carol-Passw0rd" });
    app = await adminCall(server, "POST", "/applications", {
      name: "oauth4webapi client",
      owner: "admin",
      callbackUrl: CALLBACK,
    });
    const issuer = new URL(server.origin);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
    );
  });

  after(async () => {
    await server?.stop();
  });

  it("discovers the metadata: issuer matches the origin, S256 PKCE and iss advertised", () => {
    assert.equal(as.issuer, server.origin);
    assert.equal(as.authorization_endpoint, `${server.origin}/authorize`);
    assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    assert.ok(as.grant_types_supported.includes("authorization_code"));
  });

  async function codeFlow(client, clientAuth) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set("client_id", client.client_id);
    url.searchParams.set("redirect_uri", CALLBACK);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", "default");
    url.searchParams.set("code_challenge", codeChallenge);
    url.searchParams.set("code_challenge_method", "S256");
    url.searchParams.set("state", state);
    const callbackUrl = await browse(url, { username: "carol", password: "carol-Passw0rd" });
    const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      CALLBACK,
      codeVerifier,
      insecure,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    return { tokens, params, codeVerifier };
  }

  it("a public client (auth method none) completes code + PKCE and refreshes", async () => {
    const client = { client_id: app.keys.PRODUCTION.consumerKey, token_endpoint_auth_method: "none" };
    const { tokens } = await codeFlow(client, oauth.None());
    assert.equal(tokens.token_type, "bearer");
    assert.equal(tokens.scope, "default");
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token);
    assert.ok(tokens.expires_in > 0);
    // The refresh token of a code grant is the client's like any other; refreshing needs the secret.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(app.keys.PRODUCTION.consumerSecret),
        tokens.refresh_token,
        insecure,
      ),
    );
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
  });

  it("a confidential client (client_secret_basic), then introspection and revocation", async () => {
    const client = { client_id: app.keys.PRODUCTION.consumerKey };
    const auth = oauth.ClientSecretBasic(app.keys.PRODUCTION.consumerSecret);
    const { tokens } = await codeFlow(client, auth);
    const info = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure),
    );
    assert.equal(info.active, true);
    assert.equal(info.username, "carol@carbon.super");
    assert.equal(info.client_id, client.client_id);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure),
    );
    const after = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure),
    );
    assert.equal(after.active, false);
  });

  it("client_secret_post works, and a reused code is refused with invalid_grant", async () => {
    const client = { client_id: app.keys.PRODUCTION.consumerKey };
    const auth = oauth.ClientSecretPost(app.keys.PRODUCTION.consumerSecret);
    const { params, codeVerifier } = await codeFlow(client, auth);
    const again = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      params,
      CALLBACK,
      codeVerifier,
      insecure,
    );
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, again), (error) => {
      assert.ok(error instanceof oauth.ResponseBodyError);
      assert.equal(error.error, "invalid_grant");
      assert.equal(error.status, 400);
      return true;
    });
  });

  it("an error authorization response (access denied) is parsed as one, state and iss checked", async () => {
    const client = { client_id: app.keys.PRODUCTION.consumerKey };
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set("client_id", client.client_id);
    url.searchParams.set("response_type", "code");
    url.searchParams.set(
      "code_challenge",
      await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
    );
    url.searchParams.set("code_challenge_method", "S256");
    url.searchParams.set("state", state);
    const callbackUrl = await browse(url, {
      username: "carol",
      password: "carol-Passw0rd",
      decision: "deny",
    });
    assert.throws(
      () => oauth.validateAuthResponse(as, client, callbackUrl, state),
      (error) => {
        assert.ok(error instanceof oauth.AuthorizationResponseError);
        assert.equal(error.error, "access_denied");
        return true;
      },
    );
  });

  it("a request refused at /authorize (plain PKCE) comes back as a well-formed error response", async () => {
    const client = { client_id: app.keys.PRODUCTION.consumerKey };
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set("client_id", client.client_id);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("code_challenge", oauth.generateRandomCodeVerifier());
    url.searchParams.set("code_challenge_method", "plain");
    url.searchParams.set("state", state);
    const response = await fetch(url, { redirect: "manual" });
    assert.equal(response.status, 302);
    assert.throws(
      () => oauth.validateAuthResponse(as, client, new URL(response.headers.get("location")), state),
      (error) => {
        assert.ok(error instanceof oauth.AuthorizationResponseError);
        assert.equal(error.error, "invalid_request");
        return true;
      },
    );
  });
});

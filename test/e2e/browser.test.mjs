// A real browser through the authorization endpoint: headless Chromium (./browser.mjs: /usr/bin/chromium, else the
// npm package's build) driven by playwright-core against `wrangler dev`, with a local callback server standing in
// for the client application.
// Screenshots of the login and consent pages go to artifacts/ (gitignored).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { launchChromium } from "./browser.mjs";
import { adminCall, ROOT, startWranglerDev } from "./wrangler-dev.mjs";

const run = promisify(execFile);
// The callback server listens on an ephemeral port; its address is known once it is up.
let callbackPort;
let CALLBACK;
const ARTIFACTS = join(ROOT, "artifacts");

const base64url = (buffer) => buffer.toString("base64url");

function pkce() {
  const verifier = base64url(randomBytes(32));
  return { verifier, challenge: base64url(createHash("sha256").update(verifier).digest()) };
}

/** The client application's side: records what reaches the callback, and serves a cross-site attacker page. */
function startCallbackServer() {
  const hits = [];
  let attackPage = "";
  const server = createServer((request, response) => {
    const url = new URL(request.url, "http://127.0.0.1");
    if (url.pathname === "/callback") {
      hits.push(url);
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end("<!doctype html><title>Callback</title><h1>Back at the client</h1>");
      return;
    }
    if (url.pathname === "/attack") {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(attackPage);
      return;
    }
    response.writeHead(404);
    response.end();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: server.address().port,
        hits,
        setAttackPage(html) {
          attackPage = html;
        },
        close: () => new Promise((done) => server.close(done)),
      }),
    );
  });
}

describe("browser flows (Chromium)", { timeout: 180_000 }, () => {
  let server;
  let callback;
  let browser;
  let app;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [server, callback] = await Promise.all([startWranglerDev(), startCallbackServer()]);
    callbackPort = callback.port;
    CALLBACK = `http://127.0.0.1:${callbackPort}/callback`;
    let source;
    ({ browser, source } = await launchChromium());
    console.log(`# Chromium ${browser.version()} (${source} build)`);
    await adminCall(server, "POST", "/users", { username: "alice", password: "alice-Passw0rd" });
    await adminCall(server, "POST", "/users", {
      username: "bob",
      password: "bob-Passw0rd",
      tenant: "example.com",
    });
    app = await adminCall(server, "POST", "/applications", {
      name: "Pizza Shack Web",
      owner: "admin",
      callbackUrl: CALLBACK,
    });
  });

  after(async () => {
    await browser?.close();
    await callback?.close();
    await server?.stop();
  });

  function authorizeUrl(params) {
    return `${server.origin}/authorize?${new URLSearchParams(params).toString()}`;
  }

  async function token(params) {
    const response = await fetch(`${server.origin}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params).toString(),
    });
    return { status: response.status, body: await response.json(), response };
  }

  async function introspect(tokenValue) {
    const response = await fetch(`${server.origin}/introspect`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${server.adminToken}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ token: tokenValue }).toString(),
    });
    return response.json();
  }

  it("code + PKCE: log in on the real page, approve, land on the callback, exchange the code", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const { verifier, challenge } = pkce();
    const state = `st-${base64url(randomBytes(8))}`;
    const keys = app.keys.PRODUCTION;
    await page.goto(
      authorizeUrl({
        response_type: "code",
        client_id: keys.consumerKey,
        redirect_uri: CALLBACK,
        scope: "default PRODUCTION",
        state,
        code_challenge: challenge,
        code_challenge_method: "S256",
      }),
    );
    assert.equal(await page.title(), "Sign in · edge-key-manager");
    assert.match(await page.textContent("main"), /Pizza Shack Web/);
    await page.screenshot({ path: join(ARTIFACTS, "login.png"), fullPage: true });

    // A wrong password first: a clear message, still on the login page.
    await page.fill("#username", "alice");
    await page.fill("#password", "not-her-password");
    await page.click("#sign-in");
    await page.waitForSelector("#login-error");
    assert.match((await page.textContent("#login-error")).trim(), /^The user name or password is incorrect/);
    await page.screenshot({ path: join(ARTIFACTS, "login-error.png"), fullPage: true });

    await page.fill("#password", "alice-Passw0rd");
    await page.click("#sign-in");
    await page.waitForSelector("#approve");
    assert.equal((await page.textContent("#signed-in-user")).trim(), "alice@carbon.super");
    assert.match(await page.textContent("main"), /PRODUCTION/);
    await page.screenshot({ path: join(ARTIFACTS, "consent.png"), fullPage: true });

    await Promise.all([page.waitForURL((url) => url.href.startsWith(CALLBACK)), page.click("#approve")]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get("state"), state);
    assert.equal(landed.searchParams.get("iss"), server.origin);
    const code = landed.searchParams.get("code");
    assert.match(code, /^[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(callback.hits.at(-1)?.searchParams.get("code"), code, "the callback server got the code");

    // A public client: client_id alone, with the PKCE verifier.
    const exchanged = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: CALLBACK,
      client_id: keys.consumerKey,
      code_verifier: verifier,
    });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body.token_type, "Bearer");
    assert.ok(exchanged.body.refresh_token);
    assert.equal(exchanged.body.scope, "default PRODUCTION");
    const info = await introspect(exchanged.body.access_token);
    assert.equal(info.active, true);
    assert.equal(info.username, "alice@carbon.super");

    // The code is single use.
    const again = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: CALLBACK,
      client_id: keys.consumerKey,
      code_verifier: verifier,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, "invalid_grant");
    assert.deepEqual(await introspect(exchanged.body.access_token), { active: false });
    await context.close();
  });

  it("implicit: the token arrives in the fragment, and the public client revokes it with client_id alone", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const keys = app.keys.PRODUCTION;
    await page.goto(
      authorizeUrl({
        response_type: "token",
        client_id: keys.consumerKey,
        redirect_uri: CALLBACK,
        state: "imp",
      }),
    );
    await page.fill("#username", "bob@example.com");
    await page.fill("#password", "bob-Passw0rd");
    await page.click("#sign-in");
    await page.waitForSelector("#approve");
    assert.equal((await page.textContent("#signed-in-user")).trim(), "bob@example.com");
    await Promise.all([page.waitForURL((url) => url.href.startsWith(CALLBACK)), page.click("#approve")]);
    const landed = new URL(page.url());
    assert.equal(landed.search, "", "nothing in the query: the token must not reach the server");
    const fragment = new URLSearchParams(landed.hash.slice(1));
    const accessToken = fragment.get("access_token");
    assert.ok(accessToken);
    assert.equal(fragment.get("token_type"), "Bearer");
    assert.equal(fragment.get("state"), "imp");
    assert.equal(fragment.get("refresh_token"), null);
    assert.equal(callback.hits.at(-1)?.search, "", "the callback server saw no token");
    assert.equal((await introspect(accessToken)).username, "bob@example.com");

    // WSO2's documented revoke line for an implicit token (README "Revoke API"), host and port changed: no secret,
    // client_id alone.
    const { stdout: revokeBody } = await run("bash", [
      "-c",
      `curl -X POST -H "Content-Type: application/x-www-form-urlencoded;charset=UTF-8" -d "token=${accessToken}&token_type_hint=access_token&client_id=${keys.consumerKey}" http://localhost:${server.port}/revoke`,
    ]);
    assert.equal(revokeBody, "", "WSO2's empty revocation response");
    assert.deepEqual(await introspect(accessToken), { active: false });
    await context.close();
  });

  /** Opens a code + PKCE authorization request and signs alice in, up to the consent page. */
  async function signInToConsent(page, state) {
    const { challenge } = pkce();
    await page.goto(
      authorizeUrl({
        response_type: "code",
        client_id: app.keys.PRODUCTION.consumerKey,
        redirect_uri: CALLBACK,
        state,
        code_challenge: challenge,
        code_challenge_method: "S256",
      }),
    );
    await page.fill("#username", "alice");
    await page.fill("#password", "alice-Passw0rd");
    await page.click("#sign-in");
    await page.waitForSelector("#approve");
  }

  it("deny returns access_denied to the client", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInToConsent(page, "no");
    await Promise.all([page.waitForURL((url) => url.href.startsWith(CALLBACK)), page.click("#deny")]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get("error"), "access_denied");
    assert.equal(landed.searchParams.get("state"), "no");
    assert.equal(landed.searchParams.get("code"), null);
    await context.close();
  });

  it("an unregistered redirect_uri is shown as an error page, not followed", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(
      authorizeUrl({
        response_type: "code",
        client_id: app.keys.PRODUCTION.consumerKey,
        redirect_uri: `http://127.0.0.1:${callbackPort}/elsewhere`,
      }),
    );
    assert.equal(response.status(), 400);
    assert.ok(page.url().startsWith(server.origin));
    assert.match(await page.textContent("main"), /does not match any callback URL/);
    await page.screenshot({ path: join(ARTIFACTS, "error.png"), fullPage: true });
    await context.close();
  });

  it("a cross-site page cannot submit the consent form (the SameSite cookie does not go with it)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInToConsent(page, "csrf");
    // Worst case: the attacker even learned the signed field. Its page lives on another site (localhost vs
    // 127.0.0.1) and posts to the consent endpoint in the victim's browser.
    const field = await page.getAttribute('input[name="authz"]', "value");
    const hitsBefore = callback.hits.length;
    callback.setAttackPage(
      `<!doctype html><form id="f" method="post" action="${server.origin}/authorize/consent">` +
        `<input type="hidden" name="authz" value="${field}"><input type="hidden" name="decision" value="approve">` +
        `</form><script>document.getElementById("f").submit()</script>`,
    );
    const attacker = await context.newPage();
    await Promise.all([
      attacker.waitForURL((url) => url.href.startsWith(`${server.origin}/authorize/consent`)),
      attacker.goto(`http://localhost:${callbackPort}/attack`),
    ]);
    await attacker.waitForLoadState();
    assert.match(await attacker.textContent("main"), /did not send the sign-in cookie/);
    assert.equal(callback.hits.length, hitsBefore, "no code reached the callback");
    // The victim's own click still works.
    await Promise.all([page.waitForURL((url) => url.href.startsWith(CALLBACK)), page.click("#approve")]);
    assert.ok(new URL(page.url()).searchParams.get("code"));
    await context.close();
  });
});

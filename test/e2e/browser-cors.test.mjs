// A web page calls an API through the gateway with fetch (README "Calling an API from a web page"), in headless
// Chromium against `wrangler dev`. The page is served on host names that Chromium maps to 127.0.0.1: app.test
// (the key's allowed domain and the API's CORS origin) and evil.test (neither). The page signs in with the
// implicit grant, reads the token from the fragment and calls the API with a bearer token.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { startBackend } from "../gateway/backend-server.mjs";
import { chromiumToUse } from "./browser.mjs";
import { adminCall, startWranglerDev } from "./wrangler-dev.mjs";

/**
 * The client application's page. `/` links to the authorization endpoint; `/callback` reads the token from the
 * fragment, calls the API (path in the fragment too) with fetch and prints what it could read.
 */
function pageHtml(gateway, apiPath, clientId) {
  return `<!doctype html><title>Pizza Shack</title>
<a id="start" href="#">Sign in</a>
<pre id="result">pending</pre>
<script>
const gateway = ${JSON.stringify(gateway)};
if (location.pathname === "/") {
  const params = new URLSearchParams({
    response_type: "token",
    client_id: ${JSON.stringify(clientId)},
    redirect_uri: location.origin + "/callback",
    state: "s1",
  });
  document.getElementById("start").href = gateway + "/authorize?" + params;
} else {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const path = fragment.get("path") || ${JSON.stringify(apiPath)};
  fetch(gateway + path, { headers: { Authorization: "Bearer " + fragment.get("access_token") } })
    .then(async (response) => {
      document.getElementById("result").textContent = JSON.stringify({
        status: response.status,
        body: await response.json(),
      });
    })
    .catch((error) => {
      document.getElementById("result").textContent = "failed: " + error;
    });
}
</script>`;
}

function startPageServer(html) {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(html());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () =>
      resolve({ port: server.address().port, close: () => new Promise((done) => server.close(done)) }),
    );
  });
}

describe("a web page calls an API through the gateway (Chromium)", { timeout: 180_000 }, () => {
  let server;
  let backend;
  let pages;
  let browser;
  let app;
  let apiPath;

  before(async () => {
    let html = () => "";
    [server, backend, pages] = await Promise.all([
      startWranglerDev(),
      startBackend({ port: 0 }),
      startPageServer(() => html()),
    ]);
    const appOrigin = `http://app.test:${pages.port}`;
    await adminCall(server, "POST", "/users", { username: "alice", password: "alice-Passw0rd" });
    app = await adminCall(server, "POST", "/applications", {
      name: "Pizza Shack SPA",
      owner: "admin",
      allowedDomains: ["app.test"],
      callbackUrl: `${appOrigin}/callback`,
    });
    const api = await adminCall(server, "POST", "/apis", {
      name: "Menu",
      context: "menu",
      version: "1.0.0",
      productionEndpoint: `${backend.url}/menu`,
      corsOrigins: [appOrigin],
    });
    await adminCall(server, "POST", "/subscriptions", { applicationId: app.id, apiId: api.id });
    apiPath = "/menu/1.0.0/pizzas";
    html = () => pageHtml(server.origin, apiPath, app.keys.PRODUCTION.consumerKey);
    const { executablePath, args } = await chromiumToUse();
    browser = await chromium.launch({
      executablePath,
      args: [...args, "--host-resolver-rules=MAP app.test 127.0.0.1, MAP evil.test 127.0.0.1"],
      headless: true,
    });
  });

  after(async () => {
    await browser?.close();
    await pages?.close();
    await backend?.close();
    await server?.stop();
  });

  async function resultOf(page) {
    await page.waitForFunction(() => document.getElementById("result")?.textContent !== "pending");
    return page.textContent("#result");
  }

  it("a page on the allowed origin signs in, calls the API with fetch and reads the JSON; a look-alike origin cannot", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://app.test:${pages.port}/`);
    await page.click("#start");
    await page.fill("#username", "alice");
    await page.fill("#password", "alice-Passw0rd");
    await page.click("#sign-in");
    await page.waitForSelector("#approve");
    await Promise.all([page.waitForURL(/app\.test:\d+\/callback#/), page.click("#approve")]);
    const answer = JSON.parse(await resultOf(page));
    assert.equal(answer.status, 200, JSON.stringify(answer));
    assert.equal(answer.body.path, "/menu/pizzas");
    assert.equal(answer.body.headers.origin, `http://app.test:${pages.port}`);
    assert.equal(answer.body.headers["x-ekm-end-user"], "alice@carbon.super");
    const accessToken = new URL(page.url()).hash.match(/access_token=([^&]+)/)[1];

    // The same page and the same (stolen) token on another origin: the preflight is refused, so the call never
    // reaches the backend and the page reads nothing.
    const evil = await context.newPage();
    const tracked = `/menu/1.0.0/track/evil-${Date.now()}`;
    await evil.goto(
      `http://evil.test:${pages.port}/callback#access_token=${accessToken}&path=${encodeURIComponent(tracked)}`,
    );
    assert.match(await resultOf(evil), /^failed: TypeError/);
    const progress = await (await fetch(`${backend.url}/__progress/${tracked.split("/").pop()}`)).json();
    assert.equal(progress.seen, false, "the refused origin's call never reached the backend");

    // The allowed page can read an error answer too (the token revoked: 401).
    await fetch(`${server.origin}/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        token: accessToken,
        client_id: app.keys.PRODUCTION.consumerKey,
      }).toString(),
    });
    const again = await context.newPage();
    await again.goto(`http://app.test:${pages.port}/callback#access_token=${accessToken}`);
    const refused = JSON.parse(await resultOf(again));
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, "invalid_token");
    await context.close();
  });
});

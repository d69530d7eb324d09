// The developer portal (API Store) in headless Chromium against `wrangler dev`: the whole journey of a developer,
// driven through the page's labels and buttons (README "Developer portal"), checked against /token and the
// gateway with a local echo backend. A screenshot of each page goes to artifacts/store-*.png (gitignored);
// STORE_README_SCREENSHOT=1 also writes the one the README shows, docs/store.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBackend } from "../gateway/backend-server.mjs";
import { launchChromium } from "./browser.mjs";
import { adminCall, ROOT, startWranglerDev } from "./wrangler-dev.mjs";

const ARTIFACTS = join(ROOT, "artifacts");
const DESKTOP = { width: 1200, height: 900 };
const PHONE = { width: 390, height: 844 };

describe("developer portal (Chromium, wrangler dev)", { timeout: 240_000 }, () => {
  let server;
  let backend;
  let browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [server, backend] = await Promise.all([startWranglerDev(), startBackend({ port: 0 })]);
    let source;
    ({ browser, source } = await launchChromium());
    console.log(`# Chromium ${browser.version()} (${source} build)`);
    await adminCall(server, "POST", "/users", { username: "alice", password: "alice-Passw0rd" });
    await adminCall(server, "POST", "/users", { username: "bob", password: "bob-Passw0rd" });
    await adminCall(server, "POST", "/apis", {
      name: "PizzaShack",
      context: "pizzashack",
      version: "1.0.0",
      productionEndpoint: `${backend.url}/pizza-prod`,
      sandboxEndpoint: `${backend.url}/pizza-sandbox`,
    });
    await adminCall(server, "POST", "/apis", {
      name: "TwitterSearch",
      context: "twitter",
      version: "1.0.0",
      productionEndpoint: `${backend.url}/twitter-prod`,
    });
  });

  after(async () => {
    await browser?.close();
    await backend?.close();
    await server?.stop();
  });

  const shot = (page, name) =>
    page.screenshot({ path: join(ARTIFACTS, `store-${name}.png`), fullPage: true });

  async function signIn(page, username, password) {
    await page.goto(`${server.origin}/store`);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  async function clientCredentials(key, secret) {
    const response = await fetch(`${server.origin}/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    });
    return { status: response.status, body: await response.json() };
  }

  const callApi = (token) =>
    fetch(`${server.origin}/pizzashack/1.0.0/menu?size=large`, {
      headers: { Authorization: `Bearer ${token}`, domain: "shop.example.com" },
    });

  it("walks a developer's journey: sign in, add an application, keys, token, subscribe, call, regenerate, unsubscribe, sign out", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();

    // Sign in (one wrong password first: a clear message on the page).
    await page.goto(`${server.origin}/store`);
    await shot(page, "sign-in");
    await signIn(page, "alice", "not-her-password");
    assert.match(await page.textContent("#store-error"), /^The user name or password is incorrect/);
    await shot(page, "sign-in-error");
    await signIn(page, "alice", "alice-Passw0rd");
    await page.waitForSelector("text=My applications");
    assert.equal((await page.textContent("#signed-in-user")).trim(), "alice@carbon.super");
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === "ekm_store");
    assert.ok(session, "a session cookie");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");
    await shot(page, "applications-empty");

    // Add an application: a bad name first, explained on the page.
    await page.getByLabel("Name", { exact: true }).fill("x".repeat(150));
    await page.getByRole("button", { name: "Add application" }).click();
    assert.match(await page.textContent("#store-error"), /Name is too long: at most 100 characters/);
    await shot(page, "add-application-error");
    await page.getByLabel("Name", { exact: true }).fill("Pizza Shack Web");
    await page.getByLabel("Application tier").selectOption("Gold");
    await page.getByLabel("Callback URL").fill("https://shop.example.com/callback");
    await page.getByRole("button", { name: "Add application" }).click();
    await page.waitForSelector("#application-name");
    assert.equal((await page.textContent("#application-name")).trim(), "Pizza Shack Web");
    await shot(page, "application-new");

    // Generate PRODUCTION keys: a bad domain list first, then the real one.
    const production = page.locator('section.key[data-key-type="PRODUCTION"]');
    await production.getByLabel("Allowed domains").fill("https://shop.example.com");
    await production.getByLabel("Token validity").fill("abc");
    await production.getByRole("button", { name: "Generate keys" }).click();
    assert.match(await page.textContent("#store-error"), /is not a bare domain name/);
    await shot(page, "generate-keys-error");
    await production.getByLabel("Allowed domains").fill("shop.example.com, *.example.org");
    await production.getByLabel("Token validity").fill("7200");
    const [generated] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith("/keys/PRODUCTION/generate")),
      production.getByRole("button", { name: "Generate keys" }).click(),
    ]);
    assert.equal(generated.headers()["cache-control"], "no-store");
    const consumerKey = (await page.textContent('[data-field="consumer-key"]')).trim();
    const consumerSecret = (await page.textContent('[data-field="consumer-secret"]')).trim();
    const shownToken = (await page.textContent('[data-field="access-token"]')).trim();
    assert.match(consumerSecret, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(
      !page.url().includes(consumerSecret) && !page.url().includes(shownToken),
      "no secret in the URL",
    );
    await shot(page, "keys-generated");

    // The shown key and secret work at /token.
    const issued = await clientCredentials(consumerKey, consumerSecret);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body.expires_in, 7200);

    // Not subscribed yet: 403.
    assert.equal((await callApi(shownToken)).status, 403);

    // Subscribe with Gold on the APIs page, then call the API through the gateway.
    await page.getByRole("link", { name: "APIs" }).click();
    const pizza = page.locator("article.api", { hasText: "PizzaShack" });
    await pizza.getByLabel("Application").selectOption({ label: "Pizza Shack Web" });
    await pizza.getByLabel("Tier").selectOption("Gold");
    await pizza.getByRole("button", { name: "Subscribe", exact: true }).click();
    await page.waitForSelector("#store-notice");
    assert.match(await pizza.textContent(), /Pizza Shack Web.*\(Gold\)/);
    await shot(page, "apis");
    for (const token of [shownToken, issued.body.access_token]) {
      const called = await callApi(token);
      assert.equal(called.status, 200);
      const echo = await called.json();
      assert.equal(echo.path, "/pizza-prod/menu");
      assert.equal(echo.headers["x-ekm-subscription-tier"], "Gold");
    }

    // Regenerate the access token: the old one gets a 401 at once, the new one works.
    await page.getByRole("link", { name: "Applications" }).click();
    await page.getByRole("link", { name: "Pizza Shack Web" }).click();
    await shot(page, "application");
    if (process.env.STORE_README_SCREENSHOT === "1") {
      mkdirSync(join(ROOT, "docs"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "docs/store.png"), fullPage: true });
    }
    await production.getByRole("button", { name: "Regenerate access token" }).click();
    const newToken = (await page.textContent('[data-field="access-token"]')).trim();
    assert.notEqual(newToken, shownToken);
    await shot(page, "token-regenerated");
    const refused = await callApi(shownToken);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate"), /invalid_token/);
    assert.equal((await callApi(newToken)).status, 200);

    // Unsubscribe: 403.
    await page.goto(`${server.origin}/store`);
    await page.getByRole("link", { name: "Pizza Shack Web" }).click();
    await page.getByRole("button", { name: "Unsubscribe" }).click();
    await page.waitForSelector("#store-notice");
    const unsubscribed = await callApi(newToken);
    assert.equal(unsubscribed.status, 403);
    assert.equal((await unsubscribed.json()).reason, "not_subscribed");
    await shot(page, "unsubscribed");

    // At phone width the pages stay readable: nothing wider than the screen.
    await page.setViewportSize(PHONE);
    for (const path of ["/store", "/store/apis", page.url().replace(server.origin, "")]) {
      await page.goto(`${server.origin}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path} is ${overflow}px wider than a phone`);
    }
    await shot(page, "phone-application");
    await page.goto(`${server.origin}/store`);
    await shot(page, "phone-applications");
    await page.setViewportSize(DESKTOP);

    // A second user does not see alice's application, and cannot open it.
    const applicationUrl = (await page.getAttribute("a.app-link", "href")) ?? "";
    const bobContext = await browser.newContext({ viewport: DESKTOP });
    const bob = await bobContext.newPage();
    await signIn(bob, "bob", "bob-Passw0rd");
    await bob.waitForSelector("text=My applications");
    assert.doesNotMatch(await bob.textContent("main"), /Pizza Shack Web/);
    await shot(bob, "second-user");
    const foreign = await bob.goto(`${server.origin}${applicationUrl}`);
    assert.equal(foreign.status(), 404);
    assert.doesNotMatch(await bob.textContent("body"), /Pizza Shack Web/);
    await shot(bob, "not-found");
    await bobContext.close();

    // Sign out: the session ends on the server too (the old cookie opens nothing).
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForSelector("text=You have signed out.");
    await shot(page, "signed-out");
    const replay = await fetch(`${server.origin}/store/apis`, {
      redirect: "manual",
      headers: { Cookie: `ekm_store=${session.value}` },
    });
    assert.equal(replay.status, 303);
    await context.close();
  });
});

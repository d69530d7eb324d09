import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { NEVER_EXPIRES_IN, readConfig } from "../../src/core/config";
import { userStoreName, userStoreRoute } from "../../src/core/user-store-routing";
import { adminJson, basic, createUser, introspect, type Keys, postForm, token, unique } from "../helpers";
import {
  type AdminApplication,
  addApplication,
  adminApplication,
  decodeEntities,
  Portal,
  STORE,
  setCookies,
  signedInUser,
} from "./portal";

const CROSS_SITE = "https://evil.example";

async function generate(portal: Portal, id: string, keyType = "PRODUCTION", settings = {}) {
  return portal.post(`${STORE}/applications/${id}/keys/${keyType}/generate`, {
    allowedDomains: "",
    validity: "3600",
    ...settings,
  });
}

function shownKeys(portal: Portal): Keys & { accessToken: string } {
  const consumerKey = portal.field("consumer-key");
  const consumerSecret = portal.field("consumer-secret");
  const accessToken = portal.field("access-token");
  if (!consumerKey || !consumerSecret || !accessToken) throw new Error(`no credentials on\n${portal.html}`);
  return { consumerKey, consumerSecret, accessToken };
}

/** The user-store object a user name lives in (README "Users: the user store"). */
const storeOf = (name: string) => userStoreName(userStoreRoute(name, readConfig(env).partitions));

describe("developer portal: sign-in and sessions", () => {
  it("shows a labelled sign-in form and sets an HttpOnly SameSite cookie for its CSRF token", async () => {
    const portal = new Portal();
    const response = await portal.get(STORE);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    // same-origin, so that the browser sends Origin on the portal's own form POSTs (no-referrer would send null).
    expect(response.headers.get("referrer-policy")).toBe("same-origin");
    expect(portal.html).toContain('<label for="username">Username</label>');
    expect(portal.html).toContain('<label for="password">Password</label>');
    expect(portal.html).toMatch(/<button[^>]*>Sign in<\/button>/);
    expect(portal.html).not.toMatch(/<script|<link|src="http/);
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ekm_store_signin=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it("signs in with a session cookie that is HttpOnly, SameSite=Lax, expiring, Secure over https", async () => {
    const user = await createUser();
    const plain = new Portal();
    const response = await plain.signIn(user.username, user.password);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(STORE);
    const cookie = setCookies(response).find((line) => line.startsWith("ekm_store=")) ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Max-Age=28800/);
    expect(cookie).toMatch(/Path=\/store/);
    expect(cookie).not.toMatch(/Secure/);
    await plain.get(STORE);
    expect(plain.html).toContain(user.canonical);
    expect(plain.html).toContain("Add application");

    const secure = new Portal("https://localhost");
    const secured = await secure.signIn(user.username, user.password);
    expect(secured.status).toBe(303);
    const hostCookie = setCookies(secured).find((line) => line.startsWith("__Host-ekm_store=")) ?? "";
    expect(hostCookie).toMatch(/Secure/);
    expect(hostCookie).toMatch(/Path=\/;/);
    expect(hostCookie).toMatch(/HttpOnly/);
  });

  it("says what went wrong on a bad password, and throttles failures like the login page does", async () => {
    const user = await createUser();
    const portal = new Portal();
    const from = { headers: { "CF-Connecting-IP": "203.0.113.15" } };
    const message =
      "The user name or password is incorrect, or there were too many failed attempts from here. Try again later.";
    await portal.get(STORE);
    await portal.post(`${STORE}/sign-in`, { username: user.username, password: "wrong-password" }, from);
    expect(portal.error()).toBe(message);
    expect(portal.cookies.has("ekm_store")).toBe(false);
    for (let i = 0; i < 4; i++)
      await portal.post(`${STORE}/sign-in`, { username: user.username, password: "no" }, from);
    // The same per-user, per-source throttle as the login page and the password grant: the right password is
    // refused from this source now, here and at the Token API.
    const refused = await portal.post(
      `${STORE}/sign-in`,
      { username: user.username, password: user.password },
      from,
    );
    expect(refused.status).toBe(200);
    expect(portal.error()).toBe(message);
    expect(portal.cookies.has("ekm_store")).toBe(false);
    const app = await adminJson<{ keys: { PRODUCTION: Keys } }>("POST", "/applications", {
      name: unique("lock"),
      owner: "admin",
    });
    const grant = await postForm(
      "/token",
      { grant_type: "password", username: user.username, password: user.password },
      { Authorization: basic(app.keys.PRODUCTION), ...from.headers },
    );
    expect(grant.status).toBe(400);
    // From another source the user still signs in.
    await portal.post(
      `${STORE}/sign-in`,
      { username: user.username, password: user.password },
      { headers: { "CF-Connecting-IP": "203.0.113.16" } },
    );
    expect(portal.cookies.has("ekm_store")).toBe(true);
  });

  it("refuses a sign-in form without its cookie-bound token or from another site", async () => {
    const user = await createUser();
    const portal = new Portal();
    await portal.get(STORE);
    const forged = await portal.post(
      `${STORE}/sign-in`,
      { username: user.username, password: user.password },
      { csrf: "A".repeat(43) },
    );
    expect(forged.status).toBe(403);
    expect(portal.cookies.has("ekm_store")).toBe(false);
    await portal.get(STORE);
    const crossSite = await portal.post(
      `${STORE}/sign-in`,
      { username: user.username, password: user.password },
      { origin: CROSS_SITE },
    );
    expect(crossSite.status).toBe(403);
    expect(portal.cookies.has("ekm_store")).toBe(false);
  });

  it("signs out on the server: the old cookie no longer opens a session", async () => {
    const { portal } = await signedInUser();
    const stolen = portal.cookies.get("ekm_store") as string;
    const out = await portal.post(`${STORE}/sign-out`, {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe(`${STORE}?notice=signed-out`);
    expect(portal.cookies.has("ekm_store")).toBe(false);
    const replay = new Portal();
    replay.cookies.set("ekm_store", stolen);
    await replay.get(STORE);
    expect(replay.html).toContain('<label for="username">Username</label>');
    expect((await replay.get(`${STORE}/apis`)).status).toBe(303);
  });

  it("ends the browser's previous session when it signs in again", async () => {
    const user = await createUser();
    const portal = new Portal();
    await portal.get(STORE);
    // The sign-in form of a tab opened before signing in, sent again once signed in.
    const signInForm = portal.csrf();
    const credentials = { username: user.username, password: user.password };
    expect((await portal.post(`${STORE}/sign-in`, credentials)).status).toBe(303);
    const previous = portal.cookies.get("ekm_store") as string;
    // The user's store (README "Users: the user store"), then 256 random bits.
    expect(previous).toMatch(/^[0-9]{1,2}\.[A-Za-z0-9_-]{43}$/);
    expect((await portal.post(`${STORE}/sign-in`, credentials, { csrf: signInForm })).status).toBe(303);
    const current = portal.cookies.get("ekm_store") as string;
    expect(current).toMatch(/^[0-9]{1,2}\.[A-Za-z0-9_-]{43}$/);
    expect(current).not.toBe(previous);
    await portal.get(STORE);
    expect(portal.html).toContain(user.canonical);
    const replay = new Portal();
    replay.cookies.set("ekm_store", previous);
    await replay.get(STORE);
    expect(replay.html).toContain('<label for="username">Username</label>');
    expect(replay.html).not.toContain(user.canonical);
  });

  it("ends the previous session when another user, kept in another user store, signs in in that browser", async () => {
    const first = await createUser();
    let second = await createUser();
    while (storeOf(second.username) === storeOf(first.username)) second = await createUser();
    const portal = new Portal();
    await portal.get(STORE);
    // A sign-in form opened before the first user signed in, sent by the second one afterwards.
    const signInForm = portal.csrf();
    expect((await portal.post(`${STORE}/sign-in`, first)).status).toBe(303);
    const previous = portal.cookies.get("ekm_store") as string;
    expect((await portal.post(`${STORE}/sign-in`, second, { csrf: signInForm })).status).toBe(303);
    await portal.get(STORE);
    expect(portal.html).toContain(second.canonical);
    const replay = new Portal();
    replay.cookies.set("ekm_store", previous);
    await replay.get(STORE);
    expect(replay.html).toContain('<label for="username">Username</label>');
    expect(replay.html).not.toContain(first.canonical);
  });

  it("refuses a tampered session cookie: signed out, and a POST with it changes nothing", async () => {
    const { portal, username } = await signedInUser();
    const id = await addApplication(portal, unique("tamper"));
    const csrf = portal.csrf();
    const cookie = portal.cookies.get("ekm_store") as string;
    const last = cookie.at(-1) === "A" ? "B" : "A";
    portal.cookies.set("ekm_store", `${cookie.slice(0, -1)}${last}`);
    await portal.get(STORE);
    expect(portal.html).toContain('<label for="username">Username</label>');
    expect(portal.html).not.toContain(username);
    const refused = await portal.post(`${STORE}/applications/${id}/delete`, {}, { csrf });
    expect(refused.status).toBe(403);
    expect((await adminApplication(id)).id).toBe(id);
    portal.cookies.set("ekm_store", `${cookie}x`);
    expect((await portal.post(`${STORE}/applications/${id}/delete`, {}, { csrf })).status).toBe(403);
    expect((await adminApplication(id)).id).toBe(id);
  });

  it("ends a user's portal sessions when their password changes", async () => {
    const { portal, username } = await signedInUser();
    await adminJson("PATCH", `/users/${username}`, { password: "a-new-Passw0rd" });
    await portal.get(STORE);
    expect(portal.html).toContain('<label for="username">Username</label>');
  });
});

describe("developer portal: applications, keys and tokens", () => {
  it("adds an application, generates keys shown once (no-store) that work at /token, regenerates them", async () => {
    const { portal, username } = await signedInUser();
    const id = await addApplication(portal, unique("web"), "Silver");
    const before = await adminApplication(id);
    expect(before.owner).toBe(username);
    expect(before.tier).toBe("Silver");
    expect(before.keys).toEqual({});
    expect(portal.html).toContain("Generate keys");

    const generated = await generate(portal, id, "PRODUCTION", { allowedDomains: "Example.com, *.wso2.com" });
    expect(generated.status).toBe(200);
    expect(generated.headers.get("cache-control")).toBe("no-store");
    const shown = shownKeys(portal);
    const after = await adminApplication(id);
    expect(after.keys.PRODUCTION?.consumerKey).toBe(shown.consumerKey);
    expect(after.allowedDomains).toEqual(["example.com", "*.wso2.com"]);
    expect(after.accessTokenValidity).toBe(3600);
    expect((await introspect(shown.accessToken)).active).toBe(true);
    const issued = await token(shown, { grant_type: "client_credentials" });
    expect(issued.status).toBe(200);

    // Shown once: the application's page afterwards has the key, never the secret or a token.
    await portal.get(`${STORE}/applications/${id}`);
    expect(portal.field("consumer-key")).toBe(shown.consumerKey);
    expect(portal.html).not.toContain(shown.consumerSecret);
    expect(portal.html).not.toContain(shown.accessToken);
    expect(portal.field("consumer-secret")).toBeNull();

    const regenerated = await portal.post(`${STORE}/applications/${id}/keys/PRODUCTION/regenerate-token`, {});
    expect(regenerated.status).toBe(200);
    expect(regenerated.headers.get("cache-control")).toBe("no-store");
    const newToken = portal.field("access-token") as string;
    expect(newToken).not.toBe(shown.accessToken);
    expect(await introspect(shown.accessToken)).toEqual({ active: false });
    expect((await introspect(newToken)).active).toBe(true);

    const secretPage = await portal.post(`${STORE}/applications/${id}/keys/PRODUCTION/regenerate-secret`, {});
    // Shown on the page that answers the form, never in a URL (no redirect carrying it).
    expect(secretPage.status).toBe(200);
    expect(secretPage.headers.get("location")).toBeNull();
    expect(secretPage.headers.get("cache-control")).toBe("no-store");
    const newSecret = portal.field("consumer-secret") as string;
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecret).not.toBe(shown.consumerSecret);
    expect((await token(shown, { grant_type: "client_credentials" })).status).toBe(401);
    const withNew = { consumerKey: shown.consumerKey, consumerSecret: newSecret };
    expect((await token(withNew, { grant_type: "client_credentials" })).status).toBe(200);

    // SANDBOX keys with a never-expiring validity.
    await portal.get(`${STORE}/applications/${id}`);
    await generate(portal, id, "SANDBOX", { validity: "-1" });
    const sandbox = shownKeys(portal);
    expect(portal.html).toContain("never expires");
    const info = await introspect(sandbox.accessToken);
    expect(info.active).toBe(true);
    expect(info.exp).toBe((info.iat as number) + NEVER_EXPIRES_IN);
  });

  it("edits allowed domains and validity", async () => {
    const { portal } = await signedInUser();
    const id = await addApplication(portal, unique("edit"));
    await generate(portal, id);
    await portal.get(`${STORE}/applications/${id}`);
    const saved = await portal.post(`${STORE}/applications/${id}/settings`, {
      allowedDomains: "a.example, b.example",
      validity: "-5",
    });
    expect(saved.status).toBe(303);
    const after = await adminApplication(id);
    expect(after.allowedDomains).toEqual(["a.example", "b.example"]);
    expect(after.accessTokenValidity).toBe(-5);
  });

  it("explains bad input on the page and changes nothing", async () => {
    const { portal, username } = await signedInUser();
    const taken = unique("taken");
    const id = await addApplication(portal, taken);
    await generate(portal, id, "PRODUCTION", { allowedDomains: "keep.example", validity: "600" });
    const count = async () =>
      (await adminJson<AdminApplication[]>("GET", `/applications?owner=${username}`)).length;
    expect(await count()).toBe(1);

    const add = async (params: Record<string, string>) => {
      await portal.get(STORE);
      return portal.post(`${STORE}/applications`, params);
    };
    expect((await add({ name: "", tier: "Gold" })).status).toBe(400);
    expect(portal.error()).toBe("Name is required: give the application a name.");
    expect((await add({ name: "   ", tier: "Gold" })).status).toBe(400);
    expect((await add({ name: "x".repeat(10_000), tier: "Gold" })).status).toBe(400);
    expect(portal.error()).toBe("Name is too long: at most 100 characters, and this one has 10000.");
    expect((await add({ name: taken, tier: "Gold" })).status).toBe(409);
    expect(portal.error()).toBe(`You already have an application named "${taken}". Choose another name.`);
    expect((await add({ name: unique("tier"), tier: "Platinum" })).status).toBe(400);
    expect(portal.error()).toBe(
      'Application tier: "Platinum" is not a tier. Choose one of Bronze, Silver, Gold, Unlimited.',
    );
    expect((await add({ name: unique("cb"), tier: "Gold", callbackUrl: "javascript:alert(1)" })).status).toBe(
      400,
    );
    expect(portal.error()).toBe("Callback URL has a forbidden scheme");
    expect(await count()).toBe(1);

    const settings = async (params: Record<string, string>) => {
      await portal.get(`${STORE}/applications/${id}`);
      return portal.post(`${STORE}/applications/${id}/settings`, params);
    };
    expect(
      (await settings({ allowedDomains: "good.example, bad domain.example", validity: "60" })).status,
    ).toBe(400);
    expect(portal.error()).toBe(
      'Allowed domains: "bad domain.example" has a space in it (separate domains with commas). Give host names such as example.com or *.example.com, separated by commas.',
    );
    expect((await settings({ allowedDomains: "https://app.example", validity: "60" })).status).toBe(400);
    expect(portal.error()).toMatch(/^Allowed domains: "https:\/\/app.example" is not a bare domain name/);
    expect((await settings({ allowedDomains: "ok.example", validity: "abc" })).status).toBe(400);
    expect(portal.error()).toBe(
      'Token validity must be a whole number of seconds, such as 3600 (a negative number means the token never expires); "abc" is not.',
    );
    expect((await settings({ allowedDomains: "ok.example", validity: "1.5" })).status).toBe(400);
    // The form keeps what was typed, so it can be corrected.
    expect(portal.html).toContain('value="1.5"');
    const unchanged = await adminApplication(id);
    expect(unchanged.allowedDomains).toEqual(["keep.example"]);
    expect(unchanged.accessTokenValidity).toBe(600);

    // Generating keys with bad settings: no keys, no change.
    await portal.get(`${STORE}/applications/${id}`);
    expect((await generate(portal, id, "SANDBOX", { allowedDomains: "http://x.example" })).status).toBe(400);
    expect(portal.field("consumer-secret")).toBeNull();
    expect((await adminApplication(id)).keys.SANDBOX).toBeUndefined();
  });

  it("escapes every value it shows", async () => {
    const { portal } = await signedInUser();
    const name = `<script>alert("x")</script>&<b>`;
    const id = await addApplication(portal, name);
    expect(portal.html).not.toContain("<script>alert");
    expect(portal.html).toContain("&lt;script&gt;");
    await portal.get(STORE);
    expect(portal.html).not.toContain("<script>alert");
    expect(decodeEntities(portal.html)).toContain(name);
    expect((await adminApplication(id)).name).toBe(name);
  });

  it("deletes an application: its keys stop working", async () => {
    const { portal } = await signedInUser();
    const id = await addApplication(portal, unique("gone"));
    await generate(portal, id);
    const shown = shownKeys(portal);
    const deleted = await portal.post(`${STORE}/applications/${id}/delete`, {});
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get("location")).toBe(`${STORE}?notice=deleted`);
    expect(await introspect(shown.accessToken)).toEqual({ active: false });
    expect((await token(shown, { grant_type: "client_credentials" })).status).toBe(401);
  });
});

describe("developer portal: authorization and cross-site requests", () => {
  it("answers another user's application id with 404 and changes nothing", async () => {
    const alice = await signedInUser();
    const id = await addApplication(alice.portal, unique("alice"));
    await generate(alice.portal, id, "PRODUCTION", { allowedDomains: "alice.example", validity: "600" });
    const aliceKeys = shownKeys(alice.portal);
    const api = await adminJson<{ id: string }>("POST", "/apis", {
      name: unique("api"),
      context: unique("ctx"),
      version: "1.0.0",
      productionEndpoint: "http://127.0.0.1:9/backend",
    });
    await alice.portal.get(`${STORE}/applications/${id}`);
    expect(
      (await alice.portal.post(`${STORE}/subscriptions`, { applicationId: id, apiId: api.id, tier: "Gold" }))
        .status,
    ).toBe(303);
    const [subscription] = await adminJson<Array<{ id: string }>>(
      "GET",
      `/subscriptions?applicationId=${id}`,
    );
    const before = await adminApplication(id);

    const bob = await signedInUser();
    await bob.portal.get(STORE);
    expect(bob.portal.html).not.toContain(before.name);
    // Nor does the API list offer Alice's application to subscribe.
    await bob.portal.get(`${STORE}/apis`);
    expect(bob.portal.html).toContain(api.id);
    expect(bob.portal.html).not.toContain(before.name);
    expect(bob.portal.html).not.toContain(id);
    expect((await bob.portal.get(`${STORE}/applications/${id}`)).status).toBe(404);
    await bob.portal.get(STORE);
    const attempts: Array<[string, Record<string, string>]> = [
      [`/applications/${id}/keys/SANDBOX/generate`, { allowedDomains: "", validity: "60" }],
      [`/applications/${id}/keys/PRODUCTION/regenerate-token`, {}],
      [`/applications/${id}/keys/PRODUCTION/regenerate-secret`, {}],
      [`/applications/${id}/settings`, { allowedDomains: "bob.example", validity: "-1" }],
      [`/applications/${id}/delete`, {}],
      ["/subscriptions", { applicationId: id, apiId: api.id, tier: "Bronze" }],
      [`/subscriptions/${subscription?.id}/delete`, {}],
    ];
    for (const [path, params] of attempts) {
      const response = await bob.portal.post(`${STORE}${path}`, params);
      expect(response.status, path).toBe(404);
      expect(bob.portal.field("consumer-secret")).toBeNull();
      expect(bob.portal.field("access-token")).toBeNull();
    }
    expect(await adminApplication(id)).toEqual(before);
    expect((await introspect(aliceKeys.accessToken)).active).toBe(true);
    expect((await token(aliceKeys, { grant_type: "client_credentials" })).status).toBe(200);
    expect(
      await adminJson<Array<{ id: string; tier: string }>>("GET", `/subscriptions?applicationId=${id}`),
    ).toEqual([expect.objectContaining({ id: subscription?.id, tier: "Gold" })]);
  });

  it("changes nothing on a cross-site POST, or one without the session's token", async () => {
    const alice = await signedInUser();
    const id = await addApplication(alice.portal, unique("csrf"));
    const csrf = alice.portal.csrf();
    const bob = await signedInUser();
    const bobsToken = bob.portal.csrf();
    const tries: Array<{ origin?: string | null; csrf?: string | null }> = [
      { origin: CROSS_SITE, csrf },
      { csrf: null },
      { csrf: "" },
      { csrf: bobsToken },
      { csrf: `${csrf.slice(0, -1)}${csrf.at(-1) === "A" ? "B" : "A"}` },
      { origin: "null", csrf },
    ];
    for (const attempt of tries) {
      const response = await alice.portal.post(`${STORE}/applications/${id}/delete`, {}, attempt);
      expect(response.status, JSON.stringify(attempt)).toBe(403);
      const added = await alice.portal.post(
        `${STORE}/applications`,
        { name: unique("x"), tier: "Gold" },
        attempt,
      );
      expect(added.status).toBe(403);
    }
    // Without Origin, Fetch Metadata: a cross-site or same-site (sibling subdomain) request is refused.
    for (const site of ["cross-site", "same-site"]) {
      const response = await alice.portal.post(
        `${STORE}/applications/${id}/delete`,
        {},
        { origin: null, csrf, headers: { "Sec-Fetch-Site": site } },
      );
      expect(response.status, site).toBe(403);
    }
    const apps = await adminJson<AdminApplication[]>("GET", `/applications?owner=${alice.username}`);
    expect(apps.map((app) => app.id)).toEqual([id]);
  });

  it("subscribes with an offered tier and unsubscribes; an unknown tier is explained", async () => {
    const { portal } = await signedInUser();
    const id = await addApplication(portal, unique("subs"));
    const api = await adminJson<{ id: string; name: string }>("POST", "/apis", {
      name: unique("api"),
      context: unique("ctx"),
      version: "2.0",
      productionEndpoint: "http://127.0.0.1:9/backend",
    });
    await portal.get(`${STORE}/apis`);
    expect(portal.html).toContain(api.name);
    const bad = await portal.post(`${STORE}/subscriptions`, {
      applicationId: id,
      apiId: api.id,
      tier: "Diamond",
      from: "apis",
    });
    expect(bad.status).toBe(400);
    expect(portal.error()).toBe(
      'Tier: "Diamond" is not a tier. Choose one of Bronze, Silver, Gold, Unlimited.',
    );
    expect(await adminJson("GET", `/subscriptions?applicationId=${id}`)).toEqual([]);
    const ok = await portal.post(`${STORE}/subscriptions`, {
      applicationId: id,
      apiId: api.id,
      tier: "Gold",
      from: "apis",
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe(`${STORE}/apis?notice=subscribed`);
    const [subscription] = await adminJson<Array<{ id: string; tier: string }>>(
      "GET",
      `/subscriptions?applicationId=${id}`,
    );
    expect(subscription?.tier).toBe("Gold");
    await portal.get(`${STORE}/applications/${id}`);
    expect(portal.html).toContain("Unsubscribe");
    const again = await portal.post(`${STORE}/subscriptions`, {
      applicationId: id,
      apiId: api.id,
      tier: "Gold",
    });
    expect(again.status).toBe(409);
    await portal.get(`${STORE}/applications/${id}`);
    const gone = await portal.post(`${STORE}/subscriptions/${subscription?.id}/delete`, {});
    expect(gone.status).toBe(303);
    expect(await adminJson("GET", `/subscriptions?applicationId=${id}`)).toEqual([]);
  });
});

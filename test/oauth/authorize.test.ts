import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fnv1a } from "../../src/core/shard-routing";
import { shardStub } from "../../src/durable/names";
import { signForm } from "../../src/oauth/authorize/form-signing";
import type { AuthorizationRequest } from "../../src/oauth/authorize/request";
import { admin, adminJson, basic, call, createApp, createUser, postForm, token, unique } from "../helpers";
import {
  CALLBACK,
  cookieOf,
  getAuthorize,
  hiddenField,
  ISSUER,
  introspectAsAdmin,
  loginToConsent,
  openLogin,
  pkcePair,
  postPage,
  responseParams,
  sha256b64url,
  submitConsent,
  submitLogin,
} from "./authorize-flow";

async function codeParams(keys: { consumerKey: string }, extra: Record<string, string | string[]> = {}) {
  const { challenge } = await pkcePair();
  return {
    response_type: "code",
    client_id: keys.consumerKey,
    redirect_uri: CALLBACK,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "xyz",
    ...extra,
  };
}

/** An error the endpoint must show on a page and not send anywhere (RFC 6749 §4.1.2.1). */
async function expectErrorPage(response: Response, text: string): Promise<void> {
  const html = await response.text();
  expect(response.status, html.slice(0, 300)).toBe(400);
  expect(response.headers.get("location")).toBeNull();
  expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  expect(html).toContain(text);
}

/** An error sent back to the client, with its state and the issuer (RFC 6749 §4.1.2.1, RFC 9207). */
function expectErrorRedirect(
  response: Response,
  error: string,
  options: { mode?: "query" | "fragment"; state?: string | null; redirectUri?: string } = {},
): URLSearchParams {
  expect(response.status).toBe(302);
  const location = response.headers.get("location") as string;
  expect(location.startsWith(options.redirectUri ?? CALLBACK)).toBe(true);
  const params = responseParams(response, options.mode ?? "query");
  expect(params.get("error"), location).toBe(error);
  expect(params.get("error_description")).toBeTruthy();
  expect(params.get("iss")).toBe(ISSUER);
  const state = options.state === undefined ? "xyz" : options.state;
  expect(params.get("state")).toBe(state);
  if ((options.mode ?? "query") === "query") expect(new URL(location).hash).toBe("");
  else expect(new URL(location).search).toBe("");
  return params;
}

describe("GET /authorize: the login page", () => {
  it("shows the application, the scopes and a signed form, with a CSRF cookie and page protections", async () => {
    const name = unique("Pizza Shack ");
    const app = await createApp({ name, callbackUrl: CALLBACK });
    const response = await getAuthorize(await codeParams(app.keys.PRODUCTION, { scope: "read PRODUCTION" }));
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain(name);
    expect(html).toContain("<code>read</code>");
    expect(html).toContain("<code>PRODUCTION</code>");
    expect(html).toContain('name="username"');
    expect(html).toContain('type="password"');
    expect(hiddenField(html)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    // No external assets: no scripts, stylesheets or images from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|https?:\/\/(?!client\.example\.com)/);
    const setCookie = response.headers.get("set-cookie") as string;
    expect(setCookie).toMatch(/^ekm_authz=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).toContain("Path=/authorize");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const csp = response.headers.get("content-security-policy") as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(html).toContain(`<style nonce="${nonce}">`);
  });

  it("keeps the browser's existing CSRF cookie instead of replacing it (several tabs at once)", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const first = await openLogin(await codeParams(app.keys.PRODUCTION));
    const second = await getAuthorize(await codeParams(app.keys.PRODUCTION), first.cookie);
    expect(second.status).toBe(200);
    expect(second.headers.get("set-cookie")).toBeNull();
  });

  it("escapes what the client sent (no HTML injection through scope or the application name)", async () => {
    const app = await createApp({ name: unique("<b>bold</b>"), callbackUrl: CALLBACK });
    const response = await getAuthorize(await codeParams(app.keys.PRODUCTION, { scope: "<i>x</i>" }));
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).not.toContain("<b>bold</b>");
    expect(html).not.toContain("<i>x</i>");
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt;");
  });
});

describe("scopes named after Object.prototype members", () => {
  it("describes constructor, __proto__ and toString as ordinary scopes on the login and consent pages", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const scope = "constructor __proto__ toString hasOwnProperty";
    const login = await openLogin(await codeParams(app.keys.PRODUCTION, { scope }));
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION, { scope }), user);
    for (const html of [login.html, consent.html]) {
      expect(html).not.toContain("native code");
      expect(html).not.toContain("function");
      expect(html.split("Permission requested by the application").length - 1).toBe(4);
    }
  });
});

describe("GET /authorize: errors before the redirect URI is trusted are shown, never redirected", () => {
  it("missing client_id", async () => {
    await expectErrorPage(await getAuthorize({ response_type: "code", redirect_uri: CALLBACK }), "client_id");
  });

  it("unknown or malformed client_id", async () => {
    await expectErrorPage(
      await getAuthorize({ response_type: "code", client_id: "nosuchclient123456", redirect_uri: CALLBACK }),
      "unknown client_id",
    );
    await expectErrorPage(
      await getAuthorize({ response_type: "code", client_id: "bad id!", redirect_uri: CALLBACK }),
      "unknown client_id",
    );
  });

  it("repeated client_id", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const id = app.keys.PRODUCTION.consumerKey;
    await expectErrorPage(
      await getAuthorize({ response_type: "code", client_id: [id, id], redirect_uri: CALLBACK }),
      "client_id is repeated",
    );
  });

  it("redirect_uri that is not exactly a registered callback URL", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    for (const uri of [
      "https://evil.example.com/callback",
      `${CALLBACK}/`,
      `${CALLBACK}?x=1`,
      CALLBACK.toUpperCase(),
      "http://client.example.com/callback",
    ]) {
      await expectErrorPage(
        await getAuthorize(await codeParams(app.keys.PRODUCTION, { redirect_uri: uri })),
        "does not match",
      );
    }
  });

  it("repeated redirect_uri", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    await expectErrorPage(
      await getAuthorize(await codeParams(app.keys.PRODUCTION, { redirect_uri: [CALLBACK, CALLBACK] })),
      "redirect_uri is repeated",
    );
  });

  it("redirect_uri omitted while several are registered, or none is registered", async () => {
    const several = await createApp({ callbackUrls: [CALLBACK, "https://other.example.com/cb"] });
    const params = await codeParams(several.keys.PRODUCTION);
    const { redirect_uri: _omitted, ...withoutRedirect } = params;
    await expectErrorPage(await getAuthorize(withoutRedirect), "redirect_uri is required");
    const none = await createApp();
    await expectErrorPage(
      await getAuthorize({ response_type: "code", client_id: none.keys.PRODUCTION.consumerKey }),
      "no registered callback URL",
    );
    // Even an otherwise broken request does not leak to an unregistered URI.
    await expectErrorPage(
      await getAuthorize({
        response_type: "bogus",
        client_id: none.keys.PRODUCTION.consumerKey,
        redirect_uri: CALLBACK,
      }),
      "does not match",
    );
  });
});

describe("GET /authorize: errors after the redirect URI is trusted go back to the client", () => {
  it("missing or unsupported response_type (query), with state and iss", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const id = app.keys.PRODUCTION.consumerKey;
    expectErrorRedirect(
      await getAuthorize({ client_id: id, redirect_uri: CALLBACK, state: "xyz" }),
      "invalid_request",
    );
    for (const type of ["id_token", "code token", "device_code"]) {
      expectErrorRedirect(
        await getAuthorize({ response_type: type, client_id: id, redirect_uri: CALLBACK, state: "xyz" }),
        "unsupported_response_type",
      );
    }
  });

  it("PKCE: plain refused, S256 required as the method, challenge well-formed", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const keys = app.keys.PRODUCTION;
    const plain = expectErrorRedirect(
      await getAuthorize(await codeParams(keys, { code_challenge_method: "plain" })),
      "invalid_request",
    );
    expect(plain.get("error_description")).toContain("S256");
    const { code_challenge_method: _m, ...noMethod } = await codeParams(keys);
    expectErrorRedirect(await getAuthorize(noMethod), "invalid_request");
    const { code_challenge: _c, ...noChallenge } = await codeParams(keys);
    expectErrorRedirect(await getAuthorize(noChallenge), "invalid_request");
    expectErrorRedirect(
      await getAuthorize(await codeParams(keys, { code_challenge: "short" })),
      "invalid_request",
    );
    expectErrorRedirect(
      await getAuthorize(await codeParams(keys, { code_challenge_method: "S512" })),
      "invalid_request",
    );
  });

  it("a scope of the other key type is invalid_scope", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    expectErrorRedirect(
      await getAuthorize(await codeParams(app.keys.PRODUCTION, { scope: "SANDBOX" })),
      "invalid_scope",
    );
  });

  it("repeated parameters are invalid_request (RFC 6749 §3.1)", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    expectErrorRedirect(
      await getAuthorize(await codeParams(app.keys.PRODUCTION, { scope: ["a", "b"] })),
      "invalid_request",
    );
    // A repeated state cannot be echoed: which one?
    expectErrorRedirect(
      await getAuthorize(await codeParams(app.keys.PRODUCTION, { state: ["s1", "s2"] })),
      "invalid_request",
      { state: null },
    );
  });

  it("an unsupported response_mode is refused", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    expectErrorRedirect(
      await getAuthorize(await codeParams(app.keys.PRODUCTION, { response_mode: "form_post" })),
      "invalid_request",
    );
  });

  it("implicit switched off for the application: unauthorized_client in the fragment", async () => {
    const app = await createApp({ callbackUrl: CALLBACK, implicitEnabled: false });
    expectErrorRedirect(
      await getAuthorize({
        response_type: "token",
        client_id: app.keys.PRODUCTION.consumerKey,
        redirect_uri: CALLBACK,
        state: "xyz",
      }),
      "unauthorized_client",
      { mode: "fragment" },
    );
  });

  it("keeps the registered redirect URI's own query (RFC 6749 §3.1.2)", async () => {
    const withQuery = "https://client.example.com/cb?tenant=a%20b&x=1";
    const app = await createApp({ callbackUrl: withQuery });
    const response = await getAuthorize({
      response_type: "nope",
      client_id: app.keys.PRODUCTION.consumerKey,
      redirect_uri: withQuery,
      state: "xyz",
    });
    const location = response.headers.get("location") as string;
    expect(location.startsWith(`${withQuery}&error=unsupported_response_type`)).toBe(true);
    expectErrorRedirect(response, "unsupported_response_type", { redirectUri: withQuery });
  });
});

describe("the login form", () => {
  it("wrong password: a clear message, the form again, no consent", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const login = await openLogin(await codeParams(app.keys.PRODUCTION));
    const response = await submitLogin(login, user.username, "wrong-password");
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain("The user name or password is incorrect");
    expect(html).toContain(`value="${user.username}"`);
    expect(html).not.toContain('value="approve"');
    expect(hiddenField(html)).toBeTruthy();
    const unknown = await submitLogin(login, unique("ghost"), "whatever");
    expect(await unknown.text()).toContain("The user name or password is incorrect");
    const empty = await submitLogin(login, user.username, "");
    expect(await empty.text()).toContain("Enter your user name and password.");
  });

  it("shares the per-source throttle with the password grant, and says the same as for a wrong password", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const login = await openLogin(await codeParams(app.keys.PRODUCTION));
    for (let i = 0; i < 5; i++) await (await submitLogin(login, user.username, `wrong-${i}`)).text();
    // Throttled from this source: even the right password is refused, with the wrong-password message ...
    const throttled = await submitLogin(login, user.username, user.password);
    const html = await throttled.text();
    expect(html).toContain("The user name or password is incorrect");
    expect(html).not.toContain('value="approve"');
    // ... and at the token endpoint from the same source ...
    const grant = await token(app.keys.PRODUCTION, {
      grant_type: "password",
      username: user.username,
      password: user.password,
    });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe("invalid_grant");
    // ... but not from another source.
    const elsewhere = await postForm(
      "/token",
      { grant_type: "password", username: user.username, password: user.password },
      { Authorization: basic(app.keys.PRODUCTION), "CF-Connecting-IP": "198.51.100.7" },
    );
    expect(elsewhere.status).toBe(200);
  });

  it("failures at the password grant throttle the login page from the same source too", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    for (let i = 0; i < 5; i++) {
      await token(app.keys.PRODUCTION, { grant_type: "password", username: user.username, password: "nope" });
    }
    const login = await openLogin(await codeParams(app.keys.PRODUCTION));
    const html = await (await submitLogin(login, user.username, user.password)).text();
    expect(html).toContain("The user name or password is incorrect");
    expect(html).not.toContain('value="approve"');
  });

  it("accepts user, user@tenant and DOMAIN/user, and shows the canonical name", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const plain = await createUser();
    const tenantName = unique("tenantuser");
    await adminJson("POST", "/users", {
      username: tenantName,
      password: "pw-tenant-1",
      tenant: "example.com",
    });
    const storeName = unique("storeuser");
    await adminJson("POST", "/users", {
      username: storeName,
      password: "pw-store-1",
      userStoreDomain: "FOO",
    });
    const cases = [
      { username: plain.username, password: plain.password, shown: `${plain.username}@carbon.super` },
      { username: `${tenantName}@example.com`, password: "pw-tenant-1", shown: `${tenantName}@example.com` },
      { username: `FOO/${storeName}`, password: "pw-store-1", shown: `FOO/${storeName}@carbon.super` },
      {
        username: `foo/${storeName}@carbon.super`,
        password: "pw-store-1",
        shown: `FOO/${storeName}@carbon.super`,
      },
    ];
    for (const user of cases) {
      const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
      expect(consent.html).toContain(`<strong id="signed-in-user">${user.shown}</strong>`);
    }
    // The tenant user is not the PRIMARY user of the same name.
    const login = await openLogin(await codeParams(app.keys.PRODUCTION));
    expect(await (await submitLogin(login, tenantName, "pw-tenant-1")).text()).toContain("incorrect");
  });
});

describe("CSRF protection of the forms", () => {
  it("refuses a login form without the cookie, with another cookie, or altered", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const login = await openLogin(await codeParams(app.keys.PRODUCTION));
    const attempts = [
      { form: login.form, cookie: null },
      { form: login.form, cookie: "A".repeat(43) },
      { form: `${login.form.split(".")[0]}x.${login.form.split(".")[1]}`, cookie: login.cookie },
      { form: `${login.form.split(".")[0]}.${"B".repeat(43)}`, cookie: login.cookie },
      { form: "", cookie: login.cookie },
    ];
    for (const attempt of attempts) {
      const response = await submitLogin(attempt, user.username, user.password);
      const html = await response.text();
      expect(response.status, JSON.stringify(attempt)).toBe(403);
      expect(html).not.toContain('value="approve"');
      expect(response.headers.get("location")).toBeNull();
    }
    // The untouched form still works.
    const ok = await submitLogin(login, user.username, user.password);
    expect(await ok.text()).toContain('value="approve"');
  });

  it("refuses a consent form without the cookie, with another cookie, or in place of another stage", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const params = await codeParams(app.keys.PRODUCTION);
    const consent = await loginToConsent(params, user);
    for (const attempt of [
      { form: consent.form, cookie: null },
      { form: consent.form, cookie: "C".repeat(43) },
    ]) {
      const response = await submitConsent(attempt, "approve");
      expect(response.status).toBe(403);
      expect(response.headers.get("location")).toBeNull();
    }
    // A login-stage form is not a consent: the stage is part of what is signed.
    const login = await openLogin(params);
    const swapped = await submitConsent({ form: login.form, cookie: login.cookie }, "approve");
    expect(swapped.status).toBe(403);
    // And a consent form is not a login form.
    const asLogin = await submitLogin(
      { form: consent.form, cookie: consent.cookie },
      user.username,
      user.password,
    );
    expect(asLogin.status).toBe(403);
    // Nothing was issued on the user's shard.
    const route = { consumerKey: app.keys.PRODUCTION.consumerKey, shard: fnv1a(user.canonical) % 16 };
    const rows = await runInDurableObject(
      shardStub(env, route),
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tokens").one().n,
    );
    expect(rows).toBe(0);
  });

  it("an expired (but authentic) form starts the sign-in over", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const login = await openLogin(await codeParams(app.keys.PRODUCTION));
    const request = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(
          atob((login.form.split(".")[0] as string).replace(/-/g, "+").replace(/_/g, "/")),
          (c) => c.charCodeAt(0),
        ),
      ),
    ).data as AuthorizationRequest;
    const stale = await signForm(env, {
      stage: "login",
      payload: request,
      cookie: login.cookie,
      ttlSeconds: 600,
      now: Date.now() - 3600_000,
    });
    const response = await submitLogin({ form: stale, cookie: login.cookie }, user.username, user.password);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain("The form expired");
    expect(html).not.toContain('value="approve"');
  });

  it("a cross-site form post (no cookie: SameSite=Lax) cannot approve", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
    const response = await postForm("/authorize/consent", { authz: consent.form, decision: "approve" });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("cookie");
  });
});

describe("the consent form", () => {
  it("deny sends access_denied with the state", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
    const response = await submitConsent(consent, "deny");
    expect(response.status).toBe(303);
    const params = responseParams(response);
    expect(params.get("error")).toBe("access_denied");
    expect(params.get("state")).toBe("xyz");
    expect(params.get("iss")).toBe(ISSUER);
    expect(params.get("code")).toBeNull();
  });

  it("an unknown decision is refused on a page", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
    const response = await submitConsent(consent, "maybe");
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });

  it("approve returns a code on the user's shard, stored only as a hash, with state untouched", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const state = "s p&a=c/e?é#%";
    const { challenge } = await pkcePair();
    const consent = await loginToConsent(
      {
        response_type: "code",
        client_id: app.keys.PRODUCTION.consumerKey,
        redirect_uri: CALLBACK,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state,
      },
      user,
    );
    expect(consent.html).toContain(CALLBACK);
    const response = await submitConsent(consent, "approve");
    expect(response.status).toBe(303);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const location = response.headers.get("location") as string;
    expect(location.startsWith(`${CALLBACK}?`)).toBe(true);
    const params = responseParams(response);
    expect(params.get("state")).toBe(state);
    expect(params.get("iss")).toBe(ISSUER);
    const code = params.get("code") as string;
    const shard = fnv1a(user.canonical) % 16;
    expect(code).toMatch(new RegExp(`^${app.keys.PRODUCTION.consumerKey}\\.${shard}\\.[A-Za-z0-9_-]{43}$`));
    const hash = await sha256b64url(code);
    const rows = await runInDurableObject(
      shardStub(env, { consumerKey: app.keys.PRODUCTION.consumerKey, shard }),
      (_instance, state) => state.storage.sql.exec("SELECT * FROM tokens").toArray(),
    );
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(row.hash).toBe(hash);
    expect(row.kind).toBe("code");
    expect(row.state).toBe("active");
    expect(row.user).toBe(user.canonical);
    expect(row.grant_type).toBe("authorization_code");
    expect(JSON.parse(row.code_binding as string)).toEqual({
      redirectUri: CALLBACK,
      redirectUriSent: true,
      codeChallenge: challenge,
    });
    // AUTHORIZATION_CODE_VALIDITY (300 s by default).
    expect((row.expires_at as number) - (row.issued_at as number)).toBe(300_000);
    expect(JSON.stringify(rows)).not.toContain(code.split(".")[2]);
  });

  it("works once: a second submission of the same form gets an error page and no second code", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
    const first = await submitConsent(consent, "approve");
    expect(first.status, await first.clone().text()).toBe(303);
    expect(responseParams(first).get("code")).toBeTruthy();
    const second = await submitConsent(consent, "approve");
    const html = await second.text();
    expect(second.status).toBe(400);
    expect(second.headers.get("location")).toBeNull();
    expect(html).toContain("already submitted");
    const shard = fnv1a(user.canonical) % 16;
    const codes = await runInDurableObject(
      shardStub(env, { consumerKey: app.keys.PRODUCTION.consumerKey, shard }),
      (_instance, state) =>
        state.storage.sql.exec("SELECT COUNT(*) AS n FROM tokens WHERE kind = 'code'").one().n,
    );
    expect(codes).toBe(1);
  });

  it("works once under concurrency: of 8 parallel submissions exactly one gets a code", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
    const answers = await Promise.all(Array.from({ length: 8 }, () => submitConsent(consent, "approve")));
    expect(answers.filter((answer) => answer.status === 303)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 400)).toHaveLength(7);
    for (const answer of answers) await answer.arrayBuffer();
  });

  it("re-checks the registration: a callback URL removed meanwhile is not used", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await loginToConsent(await codeParams(app.keys.PRODUCTION), user);
    await adminJson("PATCH", `/applications/${app.id}`, { callbackUrls: ["https://moved.example.com/cb"] });
    const response = await submitConsent(consent, "approve");
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });
});

describe("the implicit grant (response_type=token)", () => {
  async function implicitLogin(keys: { consumerKey: string }, user: { username: string; password: string }) {
    return loginToConsent(
      {
        response_type: "token",
        client_id: keys.consumerKey,
        redirect_uri: CALLBACK,
        state: "imp st",
        scope: "read",
      },
      user,
    );
  }

  it("returns the access token in the fragment, without a refresh token; revocable with client_id alone", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await implicitLogin(app.keys.PRODUCTION, user);
    const response = await submitConsent(consent, "approve");
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") as string);
    expect(location.search).toBe("");
    const params = responseParams(response, "fragment");
    const accessToken = params.get("access_token") as string;
    expect(accessToken).toMatch(/^[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(params.get("token_type")).toBe("Bearer");
    expect(Number(params.get("expires_in"))).toBe(3600);
    expect(params.get("scope")).toBe("read");
    expect(params.get("state")).toBe("imp st");
    expect(params.get("iss")).toBe(ISSUER);
    expect(params.has("refresh_token")).toBe(false);

    const info = await introspectAsAdmin(accessToken);
    expect(info).toMatchObject({
      active: true,
      username: user.canonical,
      scope: "read",
      token_type: "Bearer",
    });

    // Stored as grant_type "implicit", hashed.
    const route = { consumerKey: app.keys.PRODUCTION.consumerKey, shard: fnv1a(user.canonical) % 16 };
    const rows = await runInDurableObject(shardStub(env, route), (_i, state) =>
      state.storage.sql.exec("SELECT kind, grant_type, hash FROM tokens").toArray(),
    );
    expect(rows).toEqual([{ kind: "access", grant_type: "implicit", hash: await sha256b64url(accessToken) }]);

    // WSO2: a public (implicit) client revokes with client_id alone.
    const revoked = await postForm("/revoke", {
      token: accessToken,
      token_type_hint: "access_token",
      client_id: app.keys.PRODUCTION.consumerKey,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get("RevokedAccessToken")).toBe(accessToken);
    expect(revoked.headers.get("AuthorizedUser")).toBe(user.canonical);
    expect(revoked.headers.get("RevokedRefreshToken")).toBeNull();
    expect(await introspectAsAdmin(accessToken)).toEqual({ active: false });
  });

  it("a consent form answers with one token only, also when submitted twice", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await implicitLogin(app.keys.PRODUCTION, user);
    const [a, b] = await Promise.all([submitConsent(consent, "approve"), submitConsent(consent, "approve")]);
    expect([a.status, b.status].sort()).toEqual([303, 400]);
    const third = await submitConsent(consent, "approve");
    expect(third.status).toBe(400);
    for (const response of [a, b, third]) await response.arrayBuffer();
    const route = { consumerKey: app.keys.PRODUCTION.consumerKey, shard: fnv1a(user.canonical) % 16 };
    const issued = await runInDurableObject(
      shardStub(env, route),
      (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM tokens").one().n,
    );
    expect(issued).toBe(1);
  });

  it("client_id alone cannot revoke a token of another grant", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const issued = await token(app.keys.PRODUCTION, {
      grant_type: "password",
      username: user.username,
      password: user.password,
    });
    const response = await postForm("/revoke", {
      token: issued.body.access_token,
      client_id: app.keys.PRODUCTION.consumerKey,
    });
    expect(response.status).toBe(401);
    expect((await introspectAsAdmin(issued.body.access_token)).active).toBe(true);
  });

  it("switched off between the login page and the consent: unauthorized_client, no token", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const consent = await implicitLogin(app.keys.PRODUCTION, user);
    const patched = await admin("PATCH", `/applications/${app.id}`, { implicitEnabled: false });
    expect(patched.status).toBe(200);
    const response = await submitConsent(consent, "approve");
    expect(response.status).toBe(303);
    const params = responseParams(response, "fragment");
    expect(params.get("error")).toBe("unauthorized_client");
    expect(params.get("state")).toBe("imp st");
    expect(params.has("access_token")).toBe(false);
  });

  it("a code request with the implicit grant off still works (the switch is for token only)", async () => {
    const app = await createApp({ callbackUrl: CALLBACK, implicitEnabled: false });
    const page = await getAuthorize(await codeParams(app.keys.PRODUCTION));
    expect(page.status).toBe(200);
    expect(cookieOf(page)).toBeTruthy();
  });
});

describe("the redirect URI may be omitted when exactly one is registered", () => {
  it("uses the registered one", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const params = await codeParams(app.keys.PRODUCTION);
    const { redirect_uri: _omitted, ...withoutRedirect } = params;
    const consent = await loginToConsent(withoutRedirect, user);
    const response = await submitConsent(consent, "approve");
    expect((response.headers.get("location") as string).startsWith(`${CALLBACK}?code=`)).toBe(true);
  });

  it("several registered: the named one is used", async () => {
    const other = "myapp.example:/oauth/callback";
    const app = await createApp({ callbackUrls: [CALLBACK, other] });
    const user = await createUser();
    const consent = await loginToConsent(
      await codeParams(app.keys.PRODUCTION, { redirect_uri: other }),
      user,
    );
    const response = await submitConsent(consent, "approve");
    expect(response.status).toBe(303);
    expect((response.headers.get("location") as string).startsWith(`${other}?code=`)).toBe(true);
  });
});

describe("the forms are pages, not an API", () => {
  it("a bad POST body to the login form gets an RFC-shaped error, never a 500", async () => {
    const response = await postPage("/authorize/login", {}, null);
    expect(response.status).toBe(403);
    const wrongType = await call("/authorize/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: string }).error).toBe("invalid_request");
  });
});

describe("the form targets", () => {
  it("a GET of a form target (reload, bookmark) explains itself with 405", async () => {
    for (const path of ["/authorize/login", "/authorize/consent"]) {
      const response = await call(path);
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      expect(await response.text()).toContain("only receives the sign-in forms");
    }
  });
});

describe("over https", () => {
  it("the CSRF cookie is __Host- prefixed and Secure, and the flow works with it", async () => {
    const origin = "https://keys.example.org";
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const query = new URLSearchParams(await codeParams(app.keys.PRODUCTION)).toString();
    const page = await SELF.fetch(`${origin}/authorize?${query}`, { redirect: "manual" });
    expect(page.status).toBe(200);
    const setCookie = page.headers.get("set-cookie") as string;
    expect(setCookie).toMatch(/^__Host-ekm_authz=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain("Path=/;");
    expect(setCookie).toContain("Secure");
    expect(setCookie).not.toContain("Domain");
    const cookie = `__Host-ekm_authz=${/=([^;]+)/.exec(setCookie)?.[1]}`;
    const post = (path: string, params: Record<string, string>, withCookie = cookie) =>
      SELF.fetch(`${origin}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: withCookie },
        body: new URLSearchParams(params).toString(),
      });
    const form = hiddenField(await page.text());
    // The unprefixed (http) cookie does not count over https.
    const plainCookie = cookie.replace("__Host-", "");
    expect((await post("/authorize/login", { authz: form, ...user }, plainCookie)).status).toBe(403);
    const consent = await post("/authorize/login", {
      authz: form,
      username: user.username,
      password: user.password,
    });
    const consentForm = hiddenField(await consent.text());
    const answer = await post("/authorize/consent", { authz: consentForm, decision: "approve" });
    expect(answer.status).toBe(303);
    const params = responseParams(answer);
    expect(params.get("code")).toBeTruthy();
    expect(params.get("iss")).toBe(origin);
  });
});

describe("state", () => {
  it("an oversized state is refused and not echoed", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const response = await getAuthorize(await codeParams(app.keys.PRODUCTION, { state: "s".repeat(3000) }));
    expectErrorRedirect(response, "invalid_request", { state: null });
  });
});

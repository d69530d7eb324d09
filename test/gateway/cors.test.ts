import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import { admin, call } from "../helpers";
import { backend, callApi, callWithVars, echoOf, subscribedCaller } from "./gateway-helpers";

const PAGE = "https://app.wso2.com";
const EXPOSED = "WWW-Authenticate,Retry-After,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset";

function preflight(path: string, origin: string, method = "GET"): Promise<Response> {
  return call(path, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization, domain",
    },
  });
}

/** The response's CORS headers (and Vary), as a plain object. */
function corsHeadersOf(response: Response): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    if (name.startsWith("access-control-") || name === "vary") found[name] = value;
  }
  return found;
}

const progress = async (id: string) => (await fetch(`${backend()}/__progress/${id}`)).json();

/** Expects an answer that a page on `origin` may read: its origin echoed, never `*`, no credentials. */
function expectReadableBy(response: Response, origin: string): void {
  expect(response.headers.get("access-control-allow-origin")).toBe(origin);
  expect(response.headers.get("access-control-expose-headers")).toBe(EXPOSED);
  expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  expect(response.headers.get("vary")?.split(/,\s*/)).toContain("Origin");
}

describe("CORS at the gateway: preflights", () => {
  it("answers an allowed origin's preflight itself, with no token, and forwards nothing", async () => {
    const { path } = await subscribedCaller();
    const id = `preflight-${crypto.randomUUID()}`;
    const response = await preflight(`${path}/track/${id}`, PAGE, "POST");
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(corsHeadersOf(response)).toEqual({
      "access-control-allow-origin": PAGE,
      "access-control-allow-methods": "GET,PUT,POST,DELETE,PATCH,OPTIONS",
      "access-control-allow-headers": "authorization,content-type,domain",
      "access-control-expose-headers": EXPOSED,
      "access-control-max-age": "600",
      vary: "Origin, Access-Control-Request-Headers",
    });
    expect(await progress(id)).toEqual({ seen: false, bytes: 0, done: false });
  });

  it("answers a refused origin's preflight with 204 and no Access-Control-Allow-* header", async () => {
    const { path } = await subscribedCaller({}, { corsOrigins: [PAGE] });
    const id = `refused-preflight-${crypto.randomUUID()}`;
    const response = await preflight(`${path}/track/${id}`, "https://evil.example");
    expect(response.status).toBe(204);
    expect(corsHeadersOf(response)).toEqual({ vary: "Origin" });
    expect(await progress(id)).toEqual({ seen: false, bytes: 0, done: false });
  });

  it("forwards an OPTIONS call that is not a preflight (no Access-Control-Request-Method)", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(path, accessToken, { method: "OPTIONS", headers: { Origin: PAGE } });
    expectReadableBy(response, PAGE);
    expect((await echoOf(response)).method).toBe("OPTIONS");
  });

  it("answers 404 to a preflight where no API is published", async () => {
    const response = await preflight(`/nothing-here-${crypto.randomUUID()}/1.0.0`, PAGE);
    expect(response.status).toBe(404);
    expectReadableBy(response, PAGE);
  });
});

describe("CORS at the gateway: calls from a page", () => {
  it("lets a page on an allowed origin read the answer: its origin echoed (never *), Vary, exposed headers", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(path, accessToken, { headers: { Origin: PAGE } });
    expectReadableBy(response, PAGE);
    expect((await echoOf(response)).headers.origin).toBe(PAGE);
  });

  it("adds nothing for a call without Origin", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(path, accessToken);
    expect(corsHeadersOf(response)).toEqual({});
    await echoOf(response);
  });

  it("lets the page read error answers too: 401, 403", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    const missing = await callApi(path, null, { headers: { Origin: PAGE } });
    expect(missing.status).toBe(401);
    expectReadableBy(missing, PAGE);
    const invalid = await callApi(path, "not-a-token", { headers: { Origin: PAGE } });
    expect(invalid.status).toBe(401);
    expectReadableBy(invalid, PAGE);
    const forbidden = await callApi(path, accessToken, { headers: { Origin: "https://elsewhere.example" } });
    expect(forbidden.status).toBe(403);
    expectReadableBy(forbidden, "https://elsewhere.example");
  });

  it("removes the backend's own CORS headers: the gateway's decision wins", async () => {
    const { accessToken, path } = await subscribedCaller({}, { corsOrigins: [PAGE] });
    const allowed = await callApi(`${path}/cors`, accessToken, { headers: { Origin: PAGE } });
    expect(corsHeadersOf(allowed)).toEqual({
      "access-control-allow-origin": PAGE,
      "access-control-expose-headers": EXPOSED,
      vary: "Accept-Encoding, Origin",
    });
    await echoOf(allowed);
    const refused = await callApi(`${path}/cors`, accessToken, {
      headers: { Origin: "https://evil.example" },
    });
    expect(corsHeadersOf(refused)).toEqual({ vary: "Accept-Encoding, Origin" });
    await echoOf(refused);
    const noOrigin = await callApi(`${path}/cors`, accessToken);
    expect(corsHeadersOf(noOrigin)).toEqual({ vary: "Accept-Encoding" });
    await echoOf(noOrigin);
  });

  it("applies an API's corsOrigins over CORS_ALLOWED_ORIGINS, and the global list to other APIs", async () => {
    const vars = { CORS_ALLOWED_ORIGINS: "https://portal.example, http://localhost:3000" };
    const own = await subscribedCaller({}, { corsOrigins: [PAGE] });
    const global = await subscribedCaller();
    const ask = (caller: typeof own, origin: string) =>
      callWithVars(vars, caller.path, {
        headers: { Authorization: `Bearer ${caller.accessToken}`, Origin: origin },
      });

    const ownPage = await ask(own, PAGE);
    expectReadableBy(ownPage, PAGE);
    await echoOf(ownPage);
    const ownPortal = await ask(own, "https://portal.example");
    expect(ownPortal.headers.get("access-control-allow-origin")).toBeNull();
    await echoOf(ownPortal);

    const globalPortal = await ask(global, "https://portal.example");
    expectReadableBy(globalPortal, "https://portal.example");
    await echoOf(globalPortal);
    const globalLocal = await ask(global, "http://localhost:3000");
    expectReadableBy(globalLocal, "http://localhost:3000");
    await echoOf(globalLocal);
    const globalPage = await ask(global, PAGE);
    expect(globalPage.headers.get("access-control-allow-origin")).toBeNull();
    expect(globalPage.headers.get("vary")).toBe("Origin");
    await echoOf(globalPage);
  });

  it("lets an update change corsOrigins, and null give the API back to the global setting", async () => {
    const { api, accessToken, path } = await subscribedCaller({}, { corsOrigins: [PAGE] });
    const other = "https://other.example";
    const before = await callApi(path, accessToken, { headers: { Origin: other } });
    expect(before.headers.get("access-control-allow-origin")).toBeNull();
    await before.arrayBuffer();
    expect((await admin("PUT", `/apis/${api.id}`, { corsOrigins: [other] })).status).toBe(200);
    const changed = await callApi(path, accessToken, { headers: { Origin: other } });
    expectReadableBy(changed, other);
    await changed.arrayBuffer();
    expect((await admin("PATCH", `/apis/${api.id}`, { corsOrigins: null })).status).toBe(200);
    const reset = await callApi(path, accessToken, { headers: { Origin: "https://any.example" } });
    expectReadableBy(reset, "https://any.example");
    await reset.arrayBuffer();
  });
});

describe("allowed domains with Origin (a browser cannot fake it)", () => {
  it("checks the Origin's host against the key's allowed domains, ignoring a page-set domain header", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    await echoOf(await callApi(path, accessToken, { headers: { Origin: "https://wso2.com" } }));
    await echoOf(await callApi(path, accessToken, { headers: { Origin: "http://wso2.com:8080" } }));
    for (const origin of [
      "https://evilwso2.com",
      "https://evil.wso2.com",
      "https://wso2.com.evil.example",
      "null",
    ]) {
      const response = await callApi(path, accessToken, { headers: { Origin: origin } });
      expect(response.status, origin).toBe(403);
      expect(await response.json()).toMatchObject({ reason: "domain_not_allowed" });
    }
  });

  it("refuses a call whose Origin and domain header name different hosts, even for a key without domains", async () => {
    const restricted = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    const open = await subscribedCaller();
    for (const { accessToken, path } of [restricted, open]) {
      const response = await callApi(path, accessToken, {
        headers: { Origin: "https://evil.example", domain: "wso2.com" },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope"');
      expect(await response.json()).toMatchObject({ reason: "origin_domain_mismatch" });
    }
    // The same host in both (any scheme or port) is no conflict.
    await echoOf(
      await callApi(restricted.path, restricted.accessToken, {
        headers: { Origin: "https://wso2.com", domain: "wso2.com:443" },
      }),
    );
  });

  it("admits a declared wildcard's subdomains, never the parent or a look-alike", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["*.example.com"] });
    await echoOf(await callApi(path, accessToken, { headers: { Origin: "https://a.example.com" } }));
    await echoOf(await callApi(path, accessToken, { headers: { domain: "b.c.example.com" } }));
    for (const domain of ["example.com", "evilexample.com", "example.com.evil.net"]) {
      const response = await callApi(path, accessToken, { headers: { Origin: `https://${domain}` } });
      expect(response.status, domain).toBe(403);
      await response.arrayBuffer();
    }
  });

  it("keeps the domain-header rule for calls without Origin", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    await echoOf(await callApi(path, accessToken, { headers: { domain: "wso2.com" } }));
    const lookalike = await callApi(path, accessToken, { headers: { domain: "evilwso2.com" } });
    expect(lookalike.status).toBe(403);
    await lookalike.arrayBuffer();
  });
});

describe("hostile Origin values", () => {
  it("never answers 5xx, on preflights or calls", async () => {
    const { accessToken, path } = await subscribedCaller({ allowedDomains: ["wso2.com"] });
    const origins = [
      "",
      "null",
      "http://[::1",
      "wso2.com",
      "https://wso2.com/x",
      `https://${"a".repeat(3000)}.com`,
    ];
    for (const origin of origins) {
      for (const response of [
        await preflight(path, origin),
        await callApi(path, accessToken, { headers: { Origin: origin } }),
        await callApi(path, accessToken, { headers: { Origin: origin, domain: "wso2.com" } }),
      ]) {
        expect(response.status, origin.slice(0, 30)).toBeLessThan(500);
        await response.arrayBuffer();
      }
    }
  });
});

describe("CORS configuration", () => {
  it("reads the defaults, and always allows Authorization and the domain header", () => {
    expect(readConfig({}).cors).toEqual({
      allowedOrigins: "*",
      allowedHeaders: ["authorization", "content-type", "domain"],
      allowedMethods: ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"],
    });
    expect(
      readConfig({
        CORS_ALLOWED_ORIGINS: " https://A.example/ ,http://localhost:3000",
        CORS_ALLOWED_HEADERS: "X-Custom",
        CORS_ALLOWED_METHODS: "get,post",
        CLIENT_DOMAIN_HEADER: "X-Client-Domain",
      }).cors,
    ).toEqual({
      allowedOrigins: ["https://a.example", "http://localhost:3000"],
      allowedHeaders: ["x-custom", "authorization", "x-client-domain"],
      allowedMethods: ["GET", "POST"],
    });
  });

  it("refuses bad values with an error naming the setting", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [
        { CORS_ALLOWED_ORIGINS: "app.example.com" },
        /CORS_ALLOWED_ORIGINS: "app.example.com" is not an origin/,
      ],
      [{ CORS_ALLOWED_ORIGINS: "https://a.example/path" }, /CORS_ALLOWED_ORIGINS/],
      [{ CORS_ALLOWED_ORIGINS: "ftp://a.example" }, /CORS_ALLOWED_ORIGINS/],
      [{ CORS_ALLOWED_ORIGINS: "*, https://a.example" }, /cannot be combined/],
      [{ CORS_ALLOWED_HEADERS: "x-ok, bad header" }, /CORS_ALLOWED_HEADERS: "bad header"/],
      [{ CORS_ALLOWED_METHODS: "GET,PO(ST" }, /CORS_ALLOWED_METHODS/],
    ];
    for (const [vars, message] of bad) expect(() => readConfig(vars)).toThrow(message);
  });

  it("refuses a bad corsOrigins on the admin API with a 400, changing nothing", async () => {
    const { api } = await subscribedCaller({}, { corsOrigins: [PAGE] });
    for (const corsOrigins of [["not an origin"], ["https://a.example/x"], "*,https://a.example", [42], {}]) {
      const response = await admin("PUT", `/apis/${api.id}`, { corsOrigins });
      expect(response.status, JSON.stringify(corsOrigins)).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request" });
    }
    const read = await admin("GET", `/apis/${api.id}`);
    expect(await read.json()).toMatchObject({ corsOrigins: [PAGE] });
  });
});

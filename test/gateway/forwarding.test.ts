import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error";
import { forwardToBackend } from "../../src/gateway/forward";
import { adminJson, call, createApp, createUser, passwordToken } from "../helpers";
import {
  appToken,
  backend,
  callApi,
  callWithVars,
  createApi,
  echoOf,
  subscribe,
  subscribedCaller,
} from "./gateway-helpers";

describe("gateway forwarding", () => {
  it("forwards WSO2's documented call to the production endpoint: method, path remainder and query", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(`${path}/search.atom?q=cat`, accessToken, {
      headers: { domain: "wso2.com" },
    });
    const echo = await echoOf(response);
    expect(echo).toMatchObject({
      backend: "prod",
      method: "GET",
      path: "/prod/search.atom",
      query: "?q=cat",
    });
    expect(echo.headers.domain).toBe("wso2.com");
  });

  it("forwards the bare /{context}/{version} to the endpoint itself", async () => {
    const { accessToken, path } = await subscribedCaller();
    const echo = await echoOf(await callApi(path, accessToken));
    expect(echo.path).toBe("/prod");
    expect(echo.query).toBe("");
  });

  it("does not take a path that only starts with the version text", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(`${path}1/x`, accessToken);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found" });
  });

  it("accepts the context with or without its leading slash: both name the same API", async () => {
    const context = `noslash${Date.now()}`;
    const api = await createApi({ context });
    expect(api.context).toBe(`/${context}`);
    const app = await createApp();
    await subscribe(app, api);
    const echo = await echoOf(await callApi(`/${context}/1.0.0/a`, await appToken(app.keys.PRODUCTION)));
    expect(echo.path).toBe("/prod/a");
  });

  it("forwards a POST body and its content type, and every method", async () => {
    const { accessToken, path } = await subscribedCaller();
    const posted = await echoOf(
      await callApi(`${path}/items`, accessToken, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ hello: "world" }),
      }),
    );
    expect(posted).toMatchObject({ method: "POST", path: "/prod/items", bodyBytes: 17 });
    expect(posted.headers["content-type"]).toBe("application/json");
    for (const method of ["PUT", "PATCH", "DELETE", "OPTIONS"]) {
      const echo = await echoOf(await callApi(`${path}/items/1`, accessToken, { method, body: "x" }));
      expect(echo.method).toBe(method);
    }
    const head = await callApi(`${path}/items/1`, accessToken, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-backend")).toBe("prod");
  });

  it("routes a SANDBOX token to the sandbox endpoint", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const sandboxToken = await appToken(app.keys.SANDBOX);
    const echo = await echoOf(await callApi(`${api.context}/1.0.0/search?q=1`, sandboxToken));
    expect(echo).toMatchObject({ backend: "sandbox", path: "/sandbox/search", query: "?q=1" });
    expect(echo.headers["x-ekm-key-type"]).toBe("SANDBOX");
    const production = await echoOf(
      await callApi(`${api.context}/1.0.0/search`, await appToken(app.keys.PRODUCTION)),
    );
    expect(production.backend).toBe("prod");
  });

  it("refuses a SANDBOX token with 403 when the API has no sandbox endpoint", async () => {
    const api = await createApi({ sandbox: false });
    const app = await createApp();
    await subscribe(app, api);
    const response = await callApi(`${api.context}/1.0.0/x`, await appToken(app.keys.SANDBOX));
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope"');
    const body = (await response.json()) as Record<string, string>;
    expect(body.reason).toBe("no_sandbox_endpoint");
    expect(body.error_description).toContain("no sandbox endpoint");
  });

  it("removes the Authorization header before forwarding", async () => {
    const { accessToken, path } = await subscribedCaller();
    const echo = await echoOf(await callApi(path, accessToken));
    expect(echo.headers.authorization).toBeUndefined();
  });

  it("keeps the Authorization header when REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE is false", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callWithVars({ REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE: "false" }, path, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    const echo = await echoOf(response);
    expect(echo.headers.authorization).toBe(`Bearer ${accessToken}`);
  });

  it("tells the backend who calls, and strips identity headers the client forged", async () => {
    const { api, app, accessToken, path } = await subscribedCaller();
    const echo = await echoOf(
      await callApi(path, accessToken, {
        headers: {
          "X-Ekm-End-User": "mallory@carbon.super",
          "X-Ekm-Application-Id": "forged",
          "x-ekm-anything": "forged",
          "X-Custom": "kept",
        },
      }),
    );
    expect(echo.headers).toMatchObject({
      "x-ekm-application-id": app.id,
      "x-ekm-application-name": app.name,
      "x-ekm-consumer-key": app.keys.PRODUCTION.consumerKey,
      "x-ekm-key-type": "PRODUCTION",
      "x-ekm-end-user": "admin@carbon.super",
      "x-ekm-user-type": "APPLICATION",
      "x-ekm-api-id": api.id,
      "x-ekm-api-version": "1.0.0",
      "x-ekm-subscription-tier": "Unlimited",
      "x-custom": "kept",
      "x-forwarded-host": "localhost:8787",
      "x-forwarded-proto": "http",
    });
    expect(echo.headers["x-ekm-anything"]).toBeUndefined();
  });

  it("names the end user of a user token", async () => {
    const api = await createApi();
    const app = await createApp();
    await subscribe(app, api);
    const user = await createUser();
    const body = await passwordToken(app.keys.PRODUCTION, user);
    const echo = await echoOf(await callApi(`${api.context}/1.0.0`, body.access_token));
    expect(echo.headers["x-ekm-end-user"]).toBe(user.canonical);
    expect(echo.headers["x-ekm-user-type"]).toBe("APPLICATION_USER");
  });

  it("percent-encodes identity values that are not printable ASCII", async () => {
    const api = await createApi();
    const app = await createApp({ name: `Café 100% ${Date.now()}` });
    await subscribe(app, api);
    const echo = await echoOf(await callApi(`${api.context}/1.0.0`, await appToken(app.keys.PRODUCTION)));
    expect(decodeURIComponent(echo.headers["x-ekm-application-name"] as string)).toBe(app.name);
  });

  it("does not pass a client's Expect: 100-continue on (curl sends it for large uploads)", async () => {
    const { accessToken, path } = await subscribedCaller();
    const echo = await echoOf(
      await callApi(`${path}/upload`, accessToken, {
        method: "POST",
        headers: { Expect: "100-continue" },
        body: "x".repeat(2_000_000),
      }),
    );
    expect(echo.bodyBytes).toBe(2_000_000);
    expect(echo.headers.expect).toBeUndefined();
  });

  it("returns the backend's response as it is: status, headers, body", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(`${path}/status/418`, accessToken, { method: "POST", body: "tea" });
    expect(response.status).toBe(418);
    expect(response.headers.get("x-backend-status")).toBe("418");
    expect(((await response.json()) as { bodyBytes: number }).bodyBytes).toBe(3);
  });

  it("passes a backend's redirect back to the client instead of following it", async () => {
    const { accessToken, path } = await subscribedCaller();
    const id = `redirected-${Date.now()}`;
    const target = `${backend()}/prod/track/${id}`;
    const response = await callApi(`${path}/status/302?location=${encodeURIComponent(target)}`, accessToken, {
      redirect: "manual",
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(target);
    await response.arrayBuffer();
    // The gateway did not go there with the caller's request.
    const progress = await (await fetch(`${backend()}/__progress/${id}`)).json();
    expect(progress).toEqual({ seen: false, bytes: 0, done: false });
  });

  it("answers 502 with a JSON body when the backend is unreachable", async () => {
    const api = await adminJson<{ id: string; context: string }>("POST", "/apis", {
      name: "down",
      context: `down${Date.now()}`,
      version: "v1",
      productionEndpoint: "http://127.0.0.1:1/nothing-listens-here",
    });
    const app = await createApp();
    await subscribe(app, api as never);
    const response = await callApi(`${api.context}/v1/x`, await appToken(app.keys.PRODUCTION));
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: "bad_gateway" });
  });

  it("gives up on a backend that does not answer in time: 504", async () => {
    const error = await forwardToBackend({
      target: new URL(`${backend()}/prod/slow`),
      method: "GET",
      headers: new Headers(),
      body: null,
      timeoutMs: 300,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    const response = (error as GatewayError).getResponse();
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: "gateway_timeout" });
  });

  it("answers 404 for a path under no published API, token or not", async () => {
    const { accessToken } = await subscribedCaller();
    for (const token of [accessToken, null]) {
      const response = await callApi("/no-such-api/1.0.0/x", token);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: "not_found" });
    }
  });

  it("does not shadow the service's own routes", async () => {
    expect((await call("/health")).status).toBe(200);
    expect((await call("/token")).status).toBe(405);
    expect((await call("/revoke")).status).toBe(405);
    expect((await call("/introspect")).status).toBe(405);
    const admin = await call("/admin/nothing", { headers: { Authorization: "Bearer test-admin-token" } });
    expect(admin.status).toBe(404);
    expect(await admin.json()).toMatchObject({ error: "not_found", message: "no such admin resource" });
    expect((await call("/.well-known/oauth-authorization-server")).status).toBe(200);
  });
});

import { describe, expect, it } from "vitest";
import { callApi, echoOf, subscribedCaller } from "../gateway/gateway-helpers";
import { basic, call, createApp } from "../helpers";

/** Whatever a client sends, the answer is never a 5xx. */
describe("hostile input never yields a 5xx", () => {
  it("survives malformed forms, headers and paths on every endpoint", async () => {
    const app = await createApp();
    const auth = basic(app.keys.PRODUCTION);
    const bodies = [
      "%",
      "%E0%A4%A",
      "grant_type=%ZZ",
      "=&=&&",
      "grant_type=refresh_token&refresh_token=%00%01",
      `grant_type=refresh_token&refresh_token=${app.keys.PRODUCTION.consumerKey}.63.${"a".repeat(43)}`,
      `grant_type=refresh_token&refresh_token=${app.keys.PRODUCTION.consumerKey}.007.${"a".repeat(43)}`,
      "grant_type=password&username=%C0%AF&password=x",
      `grant_type=password&username=${"a".repeat(5000)}&password=x`,
      "grant_type=client_credentials&scope=%7F",
      "token=..&token_type_hint=%FF",
      "\u0000\u0001binary",
    ];
    const authorizations = [
      auth,
      "Basic",
      "Basic ",
      "Basic %%%",
      `Basic ${btoa("\u00ff\u00fe:x")}`,
      "Bearer",
      "Digest x",
      `Basic ${btoa(":")}`,
    ];
    for (const path of ["/token", "/revoke", "/introspect"]) {
      for (const body of bodies) {
        for (const authorization of authorizations) {
          const response = await call(path, {
            method: "POST",
            headers: { Authorization: authorization, "Content-Type": "application/x-www-form-urlencoded" },
            body,
          });
          expect(response.status, `${path} ${body} ${authorization}`).toBeLessThan(500);
          await response.arrayBuffer();
        }
      }
    }
    const adminPaths = [
      "/admin/users/%E0%A4%A",
      "/admin/users/%25",
      "/admin/applications/%00",
      "/admin/apis/..%2f",
      "/admin/subscriptions/x%20y",
      "/admin/tiers/%E0%A4%A",
      "/admin/tiers/..%2f",
      "/admin/tiers/Gold%00",
    ];
    for (const path of adminPaths) {
      for (const method of ["GET", "PATCH", "DELETE"]) {
        const response = await call(path, {
          method,
          headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
          body: method === "PATCH" ? '{"password":"x","name":"y"}' : undefined,
        });
        expect(response.status, `${method} ${path}`).toBeLessThan(500);
        await response.arrayBuffer();
      }
    }
    // Dot segments would publish an API at a path no client sends (RFC 3986 §5.2.4): refused, not stored.
    for (const context of ["../admin", "/../admin", "a/../b", "./x"]) {
      const response = await call("/admin/apis", {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
        body: JSON.stringify({
          name: "dots",
          context,
          version: "1.0.0",
          productionEndpoint: "http://127.0.0.1:9/x",
        }),
      });
      expect(response.status, context).toBe(400);
      await response.arrayBuffer();
    }
    const weirdJson = [
      '{"username":{"a":1},"password":"x"}',
      '{"name":"x","owner":"a","accessTokenValidity":1e309}',
      '{"name":"x","owner":"a","allowedDomains":[null]}',
      '{"name":"x","requestCount":1e309,"unitTime":-0}',
      '{"name":{"a":1},"requestCount":1,"unitTime":1,"tier":["Gold"]}',
      "null",
      '"str"',
    ];
    for (const body of weirdJson) {
      for (const path of [
        "/admin/users",
        "/admin/applications",
        "/admin/apis",
        "/admin/subscriptions",
        "/admin/tiers",
      ]) {
        const response = await call(path, {
          method: "POST",
          headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
          body,
        });
        expect(response.status, `${path} ${body}`).toBeLessThan(500);
        await response.arrayBuffer();
      }
    }
  });

  it("never lets a client's identity or assertion header reach the backend, however it spells the name", async () => {
    const { path, accessToken } = await subscribedCaller();
    // CGI, WSGI and Rack fold `_` and `-` into one name (HTTP_X_EKM_END_USER): each of these would read as ours.
    const spoofed: Record<string, string> = {
      X_Ekm_End_User: "evil",
      "x_ekm_end-user": "evil",
      "X-Ekm_Application_Id": "evil",
      x_ekm_consumer_key: "evil",
      X_EKM_KEY_TYPE: "evil",
      "x-ekm_anything": "evil",
      X_JWT_Assertion: "evil",
      "x-jwt_assertion": "evil",
      "X-JWT-Assertion": "evil",
    };
    const echo = await echoOf(await callApi(path, accessToken, { headers: spoofed }));
    for (const [name, value] of Object.entries(echo.headers)) {
      expect(value, name).not.toBe("evil");
      const folded = name.toLowerCase().replaceAll("_", "-");
      if (folded.startsWith("x-ekm-") || folded === "x-jwt-assertion") expect(name, name).not.toContain("_");
    }
    expect(echo.headers["x-ekm-end-user"]).toBe("admin@carbon.super");
  });
});

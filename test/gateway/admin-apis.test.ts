import { describe, expect, it } from "vitest";
import { admin, adminJson, createApp, unique } from "../helpers";
import { backend, createApi, subscribe } from "./gateway-helpers";

const api = (overrides: Record<string, unknown> = {}) => ({
  name: unique("api"),
  context: unique("ctx"),
  version: "1.0.0",
  productionEndpoint: `${backend()}/prod`,
  ...overrides,
});

describe("admin API: APIs", () => {
  it("creates an API (201, Location) and reads, lists, updates and deletes it", async () => {
    const input = api({ sandboxEndpoint: `${backend()}/sandbox/` });
    const response = await admin("POST", "/apis", input);
    expect(response.status).toBe(201);
    const created = (await response.json()) as Record<string, unknown>;
    expect(response.headers.get("location")).toBe(`/admin/apis/${created.id}`);
    expect(created).toMatchObject({
      id: expect.any(String),
      name: input.name,
      context: `/${input.context}`,
      version: "1.0.0",
      productionEndpoint: `${backend()}/prod`,
      sandboxEndpoint: `${backend()}/sandbox`,
    });
    expect(await adminJson("GET", `/apis/${created.id}`)).toEqual(created);
    expect(await adminJson<Array<{ id: string }>>("GET", "/apis")).toContainEqual(created);

    const updated = await adminJson("PUT", `/apis/${created.id}`, { sandboxEndpoint: null, version: "2.0" });
    expect(updated).toMatchObject({ sandboxEndpoint: null, version: "2.0", name: input.name });

    expect((await admin("DELETE", `/apis/${created.id}`)).status).toBe(204);
    expect((await admin("GET", `/apis/${created.id}`)).status).toBe(404);
    expect((await admin("DELETE", `/apis/${created.id}`)).status).toBe(404);
  });

  it("treats `twitter` and `/twitter` as the same API: 409 for the second", async () => {
    const context = unique("twitter");
    expect((await admin("POST", "/apis", api({ context }))).status).toBe(201);
    const clash = await admin("POST", "/apis", api({ context: `/${context}/` }));
    expect(clash.status).toBe(409);
    // Another version of the same context is another API.
    expect((await admin("POST", "/apis", api({ context, version: "2.0.0" }))).status).toBe(201);
  });

  it("refuses contexts the service's own routes would shadow", async () => {
    for (const context of ["token", "/revoke", "admin/x", ".well-known", "/authorize", "health", "Token"]) {
      const response = await admin("POST", "/apis", api({ context }));
      expect(response.status, context).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request" });
    }
    expect((await admin("POST", "/apis", api({ context: unique("tokens") }))).status).toBe(201);
  });

  it("refuses dot segments in contexts and versions (RFC 3986 §5.2.4), on create and on update", async () => {
    const contexts = ["../admin", "/../admin", "a/..", "a/../b", "./x", "/.", "..", "x/./y"];
    for (const context of contexts) {
      const response = await admin("POST", "/apis", api({ context }));
      expect(response.status, context).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request" });
    }
    for (const version of ["..", "."]) {
      expect((await admin("POST", "/apis", api({ version }))).status, version).toBe(400);
    }
    const created = (await (await admin("POST", "/apis", api())).json()) as { id: string };
    expect((await admin("PATCH", `/apis/${created.id}`, { context: "x/../admin" })).status).toBe(400);
    expect((await admin("PATCH", `/apis/${created.id}`, { version: ".." })).status).toBe(400);
    // Dots inside a segment are ordinary characters.
    expect((await admin("POST", "/apis", api({ context: `${unique("v")}..x/.well` }))).status).toBe(201);
  });

  it("validates its input with 400s", async () => {
    const bad: Array<Record<string, unknown>> = [
      api({ name: undefined }),
      api({ context: "a b" }),
      api({ context: "" }),
      api({ version: "1/0" }),
      api({ productionEndpoint: undefined }),
      api({ productionEndpoint: "ftp://example.com" }),
      api({ productionEndpoint: "not a url" }),
      api({ productionEndpoint: "http://example.com/x?y=1" }),
      api({ productionEndpoint: "http://user:pass@example.com/" }),
      api({ sandboxEndpoint: "javascript:alert(1)" }),
    ];
    for (const body of bad) {
      const response = await admin("POST", "/apis", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const notJson = await admin("POST", "/apis");
    expect(notJson.status).toBe(415);
  });
});

describe("admin API: subscriptions", () => {
  it("subscribes an application (201, default tier Unlimited), lists, updates the tier and unsubscribes", async () => {
    const created = await createApi();
    const app = await createApp();
    const response = await admin("POST", "/subscriptions", { applicationId: app.id, apiId: created.id });
    expect(response.status).toBe(201);
    const subscription = (await response.json()) as Record<string, unknown>;
    expect(subscription).toMatchObject({ id: expect.any(String), applicationId: app.id, apiId: created.id });
    expect(subscription.tier).toBe("Unlimited");
    expect(response.headers.get("location")).toBe(`/admin/subscriptions/${subscription.id}`);

    expect(await adminJson("GET", `/subscriptions?applicationId=${app.id}`)).toEqual([subscription]);
    expect(await adminJson("GET", `/subscriptions?apiId=${created.id}`)).toEqual([subscription]);
    expect(await adminJson("PATCH", `/subscriptions/${subscription.id}`, { tier: "Gold" })).toMatchObject({
      tier: "Gold",
    });
    expect((await admin("POST", "/subscriptions", { applicationId: app.id, apiId: created.id })).status).toBe(
      409,
    );
    expect((await admin("DELETE", `/subscriptions/${subscription.id}`)).status).toBe(204);
    expect(await adminJson("GET", `/subscriptions?applicationId=${app.id}`)).toEqual([]);
  });

  it("answers 404 for an unknown application or API, 400 without them", async () => {
    const created = await createApi();
    const app = await createApp();
    expect((await admin("POST", "/subscriptions", { applicationId: "nope", apiId: created.id })).status).toBe(
      404,
    );
    expect((await admin("POST", "/subscriptions", { applicationId: app.id, apiId: "nope" })).status).toBe(
      404,
    );
    expect((await admin("POST", "/subscriptions", { applicationId: app.id })).status).toBe(400);
  });

  it("drops an API's subscriptions with the API", async () => {
    const created = await createApi();
    const app = await createApp();
    const subscription = await subscribe(app, created);
    expect((await admin("DELETE", `/apis/${created.id}`)).status).toBe(204);
    expect((await admin("GET", `/subscriptions/${subscription.id}`)).status).toBe(404);
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable/names";
import { createApi } from "../gateway/gateway-helpers";
import { admin, adminJson, createApp, unique } from "../helpers";

interface Tier {
  name: string;
  requestCount: number | null;
  unitTime: number | null;
  stopOnQuotaReach: boolean;
  description: string | null;
}

const tierRows = () =>
  runInDurableObject(registryStub(env), (_instance, state) =>
    state.storage.sql.exec("SELECT * FROM tiers ORDER BY name").toArray(),
  );

describe("/admin/tiers", () => {
  it("has WSO2 API Manager 1.10's tiers on a fresh start", async () => {
    const tiers = await adminJson<Tier[]>("GET", "/tiers");
    const byName = Object.fromEntries(tiers.map((tier) => [tier.name, tier]));
    expect(byName.Bronze).toMatchObject({ requestCount: 1, unitTime: 60, stopOnQuotaReach: true });
    expect(byName.Silver).toMatchObject({ requestCount: 5, unitTime: 60, stopOnQuotaReach: true });
    expect(byName.Gold).toMatchObject({ requestCount: 20, unitTime: 60, stopOnQuotaReach: true });
    expect(byName.Unlimited).toMatchObject({ requestCount: null, unitTime: null });
    expect(await adminJson("GET", "/tiers/gold")).toMatchObject({ name: "Gold", requestCount: 20 });
  });

  it("creates, reads, updates and deletes a tier", async () => {
    const name = unique("Tier");
    const response = await admin("POST", "/tiers", {
      name,
      requestCount: 100,
      unitTime: 60,
      stopOnQuotaReach: false,
      description: "a hundred a minute",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe(`/admin/tiers/${name}`);
    expect(await response.json()).toEqual({
      name,
      requestCount: 100,
      unitTime: 60,
      stopOnQuotaReach: false,
      description: "a hundred a minute",
    });
    expect(
      (await admin("POST", "/tiers", { name: name.toUpperCase(), requestCount: 1, unitTime: 1 })).status,
    ).toBe(409);
    expect(await adminJson("PUT", `/tiers/${name}`, { requestCount: 7 })).toMatchObject({
      name,
      requestCount: 7,
      unitTime: 60,
      stopOnQuotaReach: false,
    });
    expect(
      await adminJson("PATCH", `/tiers/${name}`, { stopOnQuotaReach: true, unitTime: 3600 }),
    ).toMatchObject({
      requestCount: 7,
      unitTime: 3600,
      stopOnQuotaReach: true,
    });
    expect((await adminJson<Tier[]>("GET", "/tiers")).map((tier) => tier.name)).toContain(name);
    expect((await admin("DELETE", `/tiers/${name}`)).status).toBe(204);
    expect((await admin("GET", `/tiers/${name}`)).status).toBe(404);
    expect((await admin("DELETE", `/tiers/${name}`)).status).toBe(404);
  });

  it("refuses bad input with a clear 400 and changes nothing", async () => {
    const before = await tierRows();
    const name = unique("Bad");
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ name, requestCount: 0, unitTime: 60 }, /requestCount/],
      [{ name, requestCount: -5, unitTime: 60 }, /requestCount/],
      [{ name, requestCount: 1.5, unitTime: 60 }, /requestCount/],
      [{ name, requestCount: "10", unitTime: 60 }, /requestCount/],
      [{ name, requestCount: 10, unitTime: 1e12 }, /unitTime/],
      [{ name, requestCount: 10, unitTime: 0 }, /unitTime/],
      [{ name, requestCount: 10 }, /unitTime/],
      [{ name, unitTime: 60 }, /requestCount/],
      [{ name: "", requestCount: 10, unitTime: 60 }, /name/],
      [{ name: "   ", requestCount: 10, unitTime: 60 }, /name/],
      [{ name: "has space", requestCount: 10, unitTime: 60 }, /name/],
      [{ name: "x".repeat(65), requestCount: 10, unitTime: 60 }, /name/],
      [{ requestCount: 10, unitTime: 60 }, /name/],
      [{ name, requestCount: 10, unitTime: 60, stopOnQuotaReach: "yes" }, /stopOnQuotaReach/],
    ];
    for (const [body, message] of bad) {
      const response = await admin("POST", "/tiers", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const answer = (await response.json()) as { error: string; message: string };
      expect(answer.error).toBe("invalid_request");
      expect(answer.message).toMatch(message);
    }
    for (const body of [{ requestCount: 0 }, { unitTime: -1 }, { unitTime: 1e9 }, {}, { name: "Silver" }]) {
      expect((await admin("PATCH", "/tiers/Gold", body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(await tierRows()).toEqual(before);
  });

  it("keeps Unlimited: it cannot be changed or deleted", async () => {
    expect((await admin("PUT", "/tiers/Unlimited", { requestCount: 5 })).status).toBe(409);
    expect((await admin("DELETE", "/tiers/Unlimited")).status).toBe(409);
  });

  it("names a tier in subscriptions and applications: unknown ones are a 400, the spelling is the tier's", async () => {
    const api = await createApi();
    const before = await tierRows();
    const unknownApp = await admin("POST", "/applications", {
      name: unique("app"),
      owner: "admin",
      tier: "Platinum",
    });
    expect(unknownApp.status).toBe(400);
    expect(((await unknownApp.json()) as { message: string }).message).toMatch(/unknown tier Platinum/);
    const app = await createApp({ tier: "silver" });
    expect(app).toMatchObject({ tier: "Silver" });
    expect(await createApp()).toMatchObject({ tier: "Unlimited" });
    expect((await admin("PATCH", `/applications/${app.id}`, { tier: "Nope" })).status).toBe(400);
    expect(await adminJson("GET", `/applications/${app.id}`)).toMatchObject({ tier: "Silver" });
    expect(await adminJson("PATCH", `/applications/${app.id}`, { tier: "Gold" })).toMatchObject({
      tier: "Gold",
    });

    const refused = await admin("POST", "/subscriptions", {
      applicationId: app.id,
      apiId: api.id,
      tier: "Nope",
    });
    expect(refused.status).toBe(400);
    expect((await adminJson<unknown[]>("GET", `/subscriptions?applicationId=${app.id}`)).length).toBe(0);
    const subscription = await adminJson<{ id: string; tier: string }>("POST", "/subscriptions", {
      applicationId: app.id,
      apiId: api.id,
      tier: "bronze",
    });
    expect(subscription.tier).toBe("Bronze");
    expect((await admin("PATCH", `/subscriptions/${subscription.id}`, { tier: "Nope" })).status).toBe(400);
    expect((await admin("PATCH", `/subscriptions/${subscription.id}`, {})).status).toBe(400);
    expect(await adminJson("GET", `/subscriptions/${subscription.id}`)).toMatchObject({ tier: "Bronze" });
    expect(await tierRows()).toEqual(before);
  });

  it("refuses to delete a tier in use (409), and deletes it once nobody names it", async () => {
    const name = unique("InUse");
    await adminJson("POST", "/tiers", { name, requestCount: 3, unitTime: 10 });
    const api = await createApi();
    const app = await createApp({ tier: name });
    const subscription = await adminJson<{ id: string }>("POST", "/subscriptions", {
      applicationId: app.id,
      apiId: api.id,
      tier: name,
    });
    const inUse = await admin("DELETE", `/tiers/${name}`);
    expect(inUse.status).toBe(409);
    expect(((await inUse.json()) as { message: string }).message).toMatch(
      /1 subscription\(s\) and 1 application/,
    );
    await adminJson("PATCH", `/subscriptions/${subscription.id}`, { tier: "Gold" });
    expect((await admin("DELETE", `/tiers/${name}`)).status).toBe(409);
    await adminJson("PATCH", `/applications/${app.id}`, { tier: "Unlimited" });
    expect((await admin("DELETE", `/tiers/${name}`)).status).toBe(204);
  });
});

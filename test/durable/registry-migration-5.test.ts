import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/durable/migrations";
import { registryStub } from "../../src/durable/names";
import { REGISTRY_MIGRATIONS } from "../../src/durable/registry/schema";

// In a file of its own: storage is fresh per test file, so the test may rewrite the service's own registry.
describe("registry migration 5", () => {
  it("migration 5 adds the default tiers and turns subscription labels into tiers", async () => {
    // This file's storage is its own, so the service's registry can be taken back to version 4 with the
    // labels of old.
    const stub = registryStub(env);
    const result = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE tiers");
      sql.exec("ALTER TABLE applications DROP COLUMN tier");
      sql.exec("UPDATE schema_version SET version = 4");
      sql.exec(
        `INSERT INTO applications (id, name, owner, tenant, allowed_domains, callback_urls, shards, created_at)
         VALUES ('a1', 'app', 'admin@carbon.super', 'carbon.super', '[]', '[]', 1, 1)`,
      );
      for (const api of ["p1", "p2", "p3"]) {
        sql.exec(
          "INSERT INTO apis (id, name, context, version, production_endpoint, created_at) VALUES (?, ?, ?, '1', 'http://b', 1)",
          api,
          api,
          `/${api}`,
        );
      }
      sql.exec(
        `INSERT INTO subscriptions (id, application_id, api_id, tier, created_at) VALUES
         ('s1', 'a1', 'p1', 'gold', 1), ('s2', 'a1', 'p2', 'Platinum', 1), ('s3', 'a1', 'p3', 'Bronze', 1)`,
      );
      migrate(state.storage, REGISTRY_MIGRATIONS);
      return {
        tiers: sql.exec("SELECT name, request_count, unit_time FROM tiers ORDER BY name").toArray(),
        subscriptions: sql.exec("SELECT id, tier FROM subscriptions ORDER BY id").toArray(),
        columns: sql
          .exec<{ name: string }>("SELECT name FROM pragma_table_info('applications')")
          .toArray()
          .map((column) => column.name),
      };
    });
    expect(result.tiers).toEqual([
      { name: "Bronze", request_count: 1, unit_time: 60 },
      { name: "Gold", request_count: 20, unit_time: 60 },
      { name: "Silver", request_count: 5, unit_time: 60 },
      { name: "Unlimited", request_count: null, unit_time: null },
    ]);
    expect(result.subscriptions).toEqual([
      { id: "s1", tier: "Gold" },
      { id: "s2", tier: "Unlimited" },
      { id: "s3", tier: "Bronze" },
    ]);
    expect(result.columns).toContain("tier");
  });
});

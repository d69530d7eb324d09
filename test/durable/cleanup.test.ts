import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardStub } from "../../src/durable/names";
import { SPENT_PER_FAMILY, TokenTable } from "../../src/durable/shard/schema";
import { createApp, createUser, passwordToken, refresh, token, unique } from "../helpers";

afterEach(() => {
  vi.useRealTimers();
});

describe("ClientShard clean-up alarm", () => {
  it("deletes expired and revoked rows once their retention has passed, keeping live ones", async () => {
    const app = await createApp({ shards: 1, accessTokenValidity: 60 });
    const user = await createUser();
    const shard = shardStub(env, { consumerKey: app.keys.PRODUCTION.consumerKey, shard: 0 });
    const forever = await createApp({ shards: 1, accessTokenValidity: -1 });
    const foreverShard = shardStub(env, { consumerKey: forever.keys.PRODUCTION.consumerKey, shard: 0 });

    await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    await refresh(app.keys.PRODUCTION, pair.refresh_token as string);
    await token(forever.keys.PRODUCTION, { grant_type: "client_credentials" });
    const count = (stub: typeof shard) =>
      runInDurableObject(
        stub,
        (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM tokens").one().n as number,
      );
    // app token + spent refresh + new access + new refresh (the superseded access token is deleted at once)
    expect(await count(shard)).toBe(4);
    expect(await runInDurableObject(shard, (_i, state) => state.storage.getAlarm())).not.toBeNull();

    // Two days later: access tokens (60 s) and the refresh tokens (1 day) have expired.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2 * 86_400_000);
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    expect(await count(shard)).toBe(0);
    // Never-expiring tokens stay.
    await runDurableObjectAlarm(foreverShard);
    expect(await count(foreverShard)).toBe(1);
  });
});

describe("trimming families' spent refresh tokens", () => {
  it("trims every family that rotated since the last trim, however many (in batches), to its newest 8", async () => {
    const FAMILIES = 1001;
    const shard = shardStub(env, { consumerKey: unique("trim"), shard: 0 });
    const result = await runInDurableObject(shard, (_instance, state) => {
      const sql = state.storage.sql;
      // Each family: 8 spent refresh tokens (newest first by spent_at) and 2 live ones.
      for (let f = 0; f < FAMILIES; f++) {
        for (let t = 0; t < 10; t++) {
          const spent = t < 8;
          sql.exec(
            `INSERT INTO tokens (hash, kind, state, family, grant_type, scope, granted_scope, key_type, issued_at,
               expires_at, spent_at, purge_after)
             VALUES (?, 'refresh', ?, ?, 'password', 's', 's', 'PRODUCTION', 1, ?, ?, ?)`,
            `h-${f}-${t}`,
            spent ? "spent" : "active",
            `family-${f}`,
            Date.now() + 3_600_000,
            spent ? 1000 + t : null,
            Date.now() + 3_600_000,
          );
        }
      }
      // A table of its own over the object's storage, as the shard's: its first trim looks at every family.
      const tokens = new TokenTable(sql);
      const first = tokens.trimSpent(SPENT_PER_FAMILY);
      for (let f = 0; f < FAMILIES; f++) {
        for (const t of [8, 9]) tokens.spendRefresh(`h-${f}-${t}`, Date.now(), `next-${f}-${t}`, null);
      }
      const second = tokens.trimSpent(SPENT_PER_FAMILY);
      const counts = sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM tokens WHERE state = 'spent' GROUP BY family ORDER BY n",
        )
        .toArray()
        .map((row) => row.n);
      const oldestLeft = sql
        .exec<{ oldest: number }>("SELECT MIN(spent_at) AS oldest FROM tokens WHERE family = 'family-1000'")
        .one().oldest;
      return { first, second, counts: new Set(counts), oldestLeft };
    });
    expect(result.first).toBe(0);
    expect(result.second).toBe(2 * FAMILIES);
    expect(result.counts).toEqual(new Set([SPENT_PER_FAMILY]));
    // The two oldest of family-1000 (the last batch) went: spent at 1000 and 1001.
    expect(result.oldestLeft).toBe(1002);
  });
});

describe("a shard woken by its alarm", () => {
  it("runs its clean-up without being told its name (as after an eviction)", async () => {
    // The same object as a named shard, reached by its id alone: workerd tells such an object no name, as it
    // does when an alarm wakes an evicted object.
    const named = env.CLIENT_SHARDS.idFromName(`${unique("nameless")}/0`);
    const nameless = env.CLIENT_SHARDS.get(env.CLIENT_SHARDS.idFromString(named.toString()));
    const state = await runInDurableObject(nameless, async (_instance, object) => {
      object.storage.sql.exec(
        `INSERT INTO tokens (hash, kind, state, family, grant_type, scope, granted_scope, key_type, issued_at,
           expires_at, purge_after)
         VALUES ('expired', 'access', 'active', 'f', 'client_credentials', 's', 's', 'PRODUCTION', 1, 2, 2)`,
      );
      await object.storage.setAlarm(Date.now() + 60_000);
      return { name: object.id.name };
    });
    expect(state.name).toBeUndefined();
    expect(await runDurableObjectAlarm(nameless)).toBe(true);
    const left = await runInDurableObject(
      nameless,
      (_instance, object) => object.storage.sql.exec("SELECT COUNT(*) AS n FROM tokens").one().n,
    );
    expect(left).toBe(0);
  });
});

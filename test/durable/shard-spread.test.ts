import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../../src/crypto/password";
import { registryStub, shardStub } from "../../src/durable/names";
import { DEFAULT_SHARDS } from "../../src/durable/registry/applications";
import worker from "../../src/index";
import { basic, createApp, env, ORIGIN, postForm } from "../helpers";

/**
 * One hot client. A Durable Object instance is single-threaded, so a client's tokens are spread over N shard
 * instances. This issues password-grant tokens for 10,000 distinct users of one application (default shards)
 * through the real /token endpoint and counts what each shard instance received. bench/run.mjs copies the
 * SHARD_SPREAD line this prints into BENCHMARKS.md.
 */
const USERS = 10_000;
const PARALLEL = 100;
const PASSWORD = "spread-Passw0rd";

/**
 * Distinct user names that look like real ones rather than a numbered sequence (FNV-1a of `user1..userN` is
 * unusually even): a seeded generator, so every run is the same.
 */
function userNames(count: number): string[] {
  let seed = 0x2545f491;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = "abcdefghijklmnopqrstuvwxyz";
  const names = new Set<string>();
  while (names.size < count) {
    const length = 3 + Math.floor(next() * 8);
    let name = "";
    for (let i = 0; i < length; i++) name += alphabet[Math.floor(next() * alphabet.length)];
    if (next() < 0.5) name += `.${alphabet[Math.floor(next() * alphabet.length)]}`;
    if (next() < 0.3) name += String(Math.floor(next() * 100));
    names.add(name);
  }
  return [...names];
}

/**
 * Seeds users straight into the registry's SQLite: 10,000 users through the admin API would cost 10,000 PBKDF2
 * runs of 100,000 iterations. The iteration count is stored per hash, so one single-iteration hash serves all.
 */
async function seedUsers(names: string[]): Promise<void> {
  const password = JSON.stringify(await hashPassword(PASSWORD, 1));
  await runInDurableObject(registryStub(env), (_instance, state) => {
    const now = Date.now();
    state.storage.transactionSync(() => {
      for (const name of names) {
        state.storage.sql.exec(
          "INSERT INTO users (username, name, tenant, user_store_domain, password, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          `${name}@carbon.super`,
          name,
          "carbon.super",
          "PRIMARY",
          password,
          now,
        );
      }
    });
  });
}

/**
 * POST /token through the Worker's own fetch handler: the real Hono app and route, in this isolate. SELF.fetch
 * runs the same code, but in the test pool each POST through it costs ~8 ms of harness overhead and slows down
 * further in parallel, which would put 10,000 requests at several minutes; this way they take seconds.
 */
async function passwordGrant(authorization: string, username: string): Promise<number> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${ORIGIN}/token`, {
      method: "POST",
      headers: { Authorization: authorization, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username, password: PASSWORD }).toString(),
    }),
    env,
    ctx,
  );
  await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return response.status;
}

/** Access tokens a shard instance holds: one per password grant it served. */
async function accessTokensOnShard(consumerKey: string, shard: number): Promise<number> {
  const stub = shardStub(env, { consumerKey, shard });
  return runInDurableObject(
    stub,
    (_instance, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tokens WHERE kind = 'access'").one().n,
  );
}

describe("one client's password-grant tokens spread evenly over its shards", () => {
  it(`issues ${USERS} user tokens with max/mean per shard under 1.3`, { timeout: 120_000 }, async () => {
    const app = await createApp();
    expect(app).toMatchObject({ shards: DEFAULT_SHARDS });
    const keys = app.keys.PRODUCTION;
    const names = userNames(USERS);
    await seedUsers(names);

    const authorization = basic(keys);
    const statuses = new Map<number, number>();
    for (let start = 0; start < USERS; start += PARALLEL) {
      const batch = names.slice(start, start + PARALLEL).map(async (username) => {
        const status = await passwordGrant(authorization, username);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      await Promise.all(batch);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: USERS });

    const counts: number[] = [];
    for (let shard = 0; shard < DEFAULT_SHARDS; shard++) {
      counts.push(await accessTokensOnShard(keys.consumerKey, shard));
    }
    const total = counts.reduce((a, b) => a + b, 0);
    const mean = total / DEFAULT_SHARDS;
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    const spread = { users: USERS, requests: USERS, shards: DEFAULT_SHARDS, counts, min, max, mean };
    console.log(`SHARD_SPREAD ${JSON.stringify({ ...spread, maxOverMean: max / mean })}`);
    expect(total).toBe(USERS);
    expect(min).toBeGreaterThan(0);
    expect(max / mean).toBeLessThan(1.3);
  });

  it("keeps each user's tokens on one shard, however the name is spelled", async () => {
    const app = await createApp();
    await seedUsers(["samesharduser"]);
    const shards = new Set<string>();
    for (const username of ["samesharduser", "samesharduser@carbon.super", "PRIMARY/samesharduser"]) {
      const response = await postForm(
        "/token",
        { grant_type: "password", username, password: PASSWORD },
        { Authorization: basic(app.keys.PRODUCTION) },
      );
      const body = (await response.json()) as { access_token: string; refresh_token: string };
      expect(response.status, JSON.stringify(body)).toBe(200);
      shards.add(body.access_token.split(".")[1] as string);
      shards.add(body.refresh_token.split(".")[1] as string);
    }
    expect(shards.size).toBe(1);
  });
});

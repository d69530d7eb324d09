import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { userShard } from "../../src/core/shard-routing";
import { shardStub } from "../../src/durable/names";
import { DEFAULT_SHARDS } from "../../src/durable/registry/applications";
import worker from "../../src/index";
import { basic, createApp, env, ORIGIN, postForm, seedUsers as seedUserRows } from "../helpers";
import { userNames } from "./user-names";

/**
 * One hot client. A Durable Object instance is single-threaded, so a client's tokens are spread over N shard
 * instances. The spread of 10,000 distinct user names is measured on the production routing function
 * (`userShard`), and 1,000 of them are issued password-grant tokens through the real /token endpoint: each
 * shard instance must hold exactly the tokens the function assigned to it, so the measured spread is the
 * stored one. bench/run.mjs copies the SHARD_SPREAD line this prints into BENCHMARKS.md.
 */
const USERS = 10_000;
/** Users who get a real token: enough to prove the endpoint routes as `userShard` says, cheap enough under load. */
const ISSUED = 1_000;
const PARALLEL = 100;
const PASSWORD = "spread-Passw0rd";

async function seedUsers(names: string[]): Promise<void> {
  await seedUserRows(names, PASSWORD);
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

/** How many of these users the production routing function puts on each shard. */
function usersPerShard(names: string[]): number[] {
  const counts = new Array<number>(DEFAULT_SHARDS).fill(0);
  for (const name of names) {
    const shard = userShard(`${name}@carbon.super`, DEFAULT_SHARDS);
    counts[shard] = (counts[shard] ?? 0) + 1;
  }
  return counts;
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
  it(`spreads ${USERS} users with max/mean per shard under 1.3, and stores ${ISSUED} real grants where it says`, {
    timeout: 120_000,
  }, async () => {
    const app = await createApp();
    expect(app).toMatchObject({ shards: DEFAULT_SHARDS });
    const keys = app.keys.PRODUCTION;
    const names = userNames(USERS);

    const counts = usersPerShard(names);
    const mean = USERS / DEFAULT_SHARDS;
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    const spread = { users: USERS, issued: ISSUED, shards: DEFAULT_SHARDS, counts, min, max, mean };
    console.log(`SHARD_SPREAD ${JSON.stringify({ ...spread, maxOverMean: max / mean })}`);
    expect(min).toBeGreaterThan(0);
    expect(max / mean).toBeLessThan(1.3);

    const issued = names.slice(0, ISSUED);
    await seedUsers(issued);
    const authorization = basic(keys);
    const statuses = new Map<number, number>();
    for (let start = 0; start < ISSUED; start += PARALLEL) {
      const batch = issued.slice(start, start + PARALLEL).map(async (username) => {
        const status = await passwordGrant(authorization, username);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      await Promise.all(batch);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: ISSUED });

    const expected = usersPerShard(issued);
    const stored: number[] = [];
    for (let shard = 0; shard < DEFAULT_SHARDS; shard++) {
      stored.push(await accessTokensOnShard(keys.consumerKey, shard));
    }
    expect(stored).toEqual(expected);
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

import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseTokenRoute } from "../../src/core/token-format";
import { shardStub } from "../../src/durable/names";
import {
  basic,
  createApp,
  createUser,
  introspect,
  passwordToken,
  postForm,
  refresh,
  type TestApp,
} from "../helpers";
import { holdSealing } from "../interleave";

async function setup(options: Record<string, unknown> = {}) {
  const app = await createApp(options);
  const user = await createUser();
  return { app, user, keys: app.keys.PRODUCTION };
}

async function familyRows(tokenValue: string) {
  const route = parseTokenRoute(tokenValue);
  if (!route) throw new Error("not a token");
  const stub = shardStub(env, route);
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql.exec("SELECT kind, state, family FROM tokens ORDER BY issued_at").toArray(),
  );
}

async function allRows(tokenValue: string) {
  const route = parseTokenRoute(tokenValue);
  if (!route) throw new Error("not a token");
  return runInDurableObject(shardStub(env, route), (_instance, state) => [
    ...state.storage.sql.exec("SELECT * FROM tokens").toArray(),
    ...state.storage.sql.exec("SELECT * FROM client").toArray(),
  ]);
}

/** Moves the clock the Worker and its Durable Objects see (they share the test isolate). */
function advanceClock(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("grant_type=refresh_token (RFC 6749 §6, single use)", () => {
  it("rotates: a new pair, the old access token stops working, the new refresh token gets a fresh validity", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user);
    const rotated = await refresh(keys, first.refresh_token as string);
    expect(rotated.status).toBe(200);
    expect(rotated.response.headers.get("cache-control")).toBe("no-store");
    expect(rotated.body.access_token).not.toBe(first.access_token);
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
    expect(rotated.body.token_type).toBe("Bearer");
    expect(rotated.body.expires_in).toBe(3600);
    expect(await introspect(first.access_token)).toEqual({ active: false });
    expect(await introspect(first.refresh_token as string)).toEqual({ active: false });
    const fresh = await introspect(rotated.body.refresh_token as string);
    expect(fresh.active).toBe(true);
    expect(fresh.exp).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 86400 - 5);
    expect((await introspect(rotated.body.access_token)).username).toBe(user.canonical);
  });

  it("accepts WSO2's documented scope=PRODUCTION on refresh and narrows, never widens, the granted scope", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user, { scope: "read write" });
    expect(first.scope).toBe("read write");
    const widened = await refresh(keys, first.refresh_token as string, { scope: "read admin" });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe("invalid_scope");
    // The refused request changed nothing: the token still rotates.
    const narrowed = await refresh(keys, first.refresh_token as string, { scope: "read" });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe("read");
    // The next refresh may go back up to what was originally granted, and PRODUCTION is implied by the key.
    const again = await refresh(keys, narrowed.body.refresh_token as string, { scope: "PRODUCTION write" });
    expect(again.body.scope).toBe("PRODUCTION write");
    const sandbox = await refresh(keys, again.body.refresh_token as string, { scope: "SANDBOX" });
    expect(sandbox.body.error).toBe("invalid_scope");
  });

  it("serves 50 concurrent refreshes that all pass the pre-check with exactly one successor pair", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user);
    // All 50 are held after the pre-check (the token is active for each) and before the decision, so only the
    // serialized decision can give them one pair (test/interleave.ts).
    const hold = holdSealing(50);
    let results: Awaited<ReturnType<typeof refresh>>[];
    try {
      results = await Promise.all(
        Array.from({ length: 50 }, () => refresh(keys, first.refresh_token as string)),
      );
    } finally {
      hold.restore();
    }
    expect(hold).toMatchObject({ arrived: 50, releasedBy: "all-arrived" });
    const statuses = results.map((result) => result.status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const pairs = new Set(
      results.map((result) => `${result.body.access_token}|${result.body.refresh_token}`),
    );
    expect(pairs.size).toBe(1);
    const successor = results[0]?.body;
    expect(successor).toBeDefined();
    expect(await introspect(successor?.access_token as string)).toMatchObject({
      active: true,
      username: user.canonical,
    });
    // What is stored: the spent token and the one live pair; no second pair was written.
    const rows = await familyRows(successor?.access_token as string);
    expect(rows.map((row) => `${row.kind}:${row.state}`).sort()).toEqual([
      "access:active",
      "refresh:active",
      "refresh:spent",
    ]);
    // The family stays usable through that successor.
    const next = await refresh(keys, successor?.refresh_token as string);
    expect(next.status).toBe(200);
    expect((await introspect(next.body.access_token)).active).toBe(true);
  });

  it("keeps other users' refreshes on the same shard working while one family is mid-rotation", async () => {
    const { keys } = await setup({ shards: 1 });
    const alice = await createUser();
    const bob = await createUser();
    const aliceTokens = await passwordToken(keys, alice);
    const bobTokens = await passwordToken(keys, bob);
    // Bob's refresh reaches the shard while all 30 of Alice's are held between pre-check and decision.
    const hold = holdSealing(31);
    let bobRotated: Awaited<ReturnType<typeof refresh>>;
    let aliceResults: Awaited<ReturnType<typeof refresh>>[];
    try {
      const storm = Array.from({ length: 30 }, () => refresh(keys, aliceTokens.refresh_token as string));
      [bobRotated, ...aliceResults] = await Promise.all([
        refresh(keys, bobTokens.refresh_token as string),
        ...storm,
      ]);
    } finally {
      hold.restore();
    }
    expect(hold).toMatchObject({ arrived: 31, releasedBy: "all-arrived" });
    expect(bobRotated.status).toBe(200);
    expect((await introspect(bobRotated.body.access_token)).username).toBe(bob.canonical);
    expect(aliceResults.every((result) => result.status === 200)).toBe(true);
    const alicePairs = new Set(aliceResults.map((result) => result.body.refresh_token));
    expect(alicePairs.size).toBe(1);
    expect((await introspect(aliceResults[0]?.body.access_token as string)).username).toBe(alice.canonical);
    // Each family holds one spent refresh token and one live pair.
    const rows = await familyRows(bobRotated.body.access_token);
    const byFamily = new Map<string, string[]>();
    for (const row of rows) {
      byFamily.set(row.family as string, [
        ...(byFamily.get(row.family as string) ?? []),
        `${row.kind}:${row.state}`,
      ]);
    }
    expect([...byFamily.values()].map((states) => states.sort())).toEqual([
      ["access:active", "refresh:active", "refresh:spent"],
      ["access:active", "refresh:active", "refresh:spent"],
    ]);
  });

  it("replays the same successor to a retry inside REFRESH_TOKEN_REUSE_GRACE", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user);
    const rotated = await refresh(keys, first.refresh_token as string);
    advanceClock(20_000);
    const retried = await refresh(keys, first.refresh_token as string);
    expect(retried.status).toBe(200);
    expect(retried.body.access_token).toBe(rotated.body.access_token);
    expect(retried.body.refresh_token).toBe(rotated.body.refresh_token);
    expect(retried.body.expires_in).toBeLessThanOrEqual(3600 - 19);
  });

  it("revokes the whole family when a spent token comes back after the grace window (RFC 9700 §4.14.2)", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user);
    const second = await refresh(keys, first.refresh_token as string);
    const third = await refresh(keys, second.body.refresh_token as string);
    expect(third.status).toBe(200);
    advanceClock(31_000);
    const reuse = await refresh(keys, first.refresh_token as string);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    expect(await introspect(third.body.access_token)).toEqual({ active: false });
    const successorRefresh = await refresh(keys, third.body.refresh_token as string);
    expect(successorRefresh.status).toBe(400);
    expect(successorRefresh.body.error).toBe("invalid_grant");
    const rows = await familyRows(third.body.access_token);
    expect(rows.filter((row) => row.state === "active")).toEqual([]);
  });

  it("revokes the family when a spent token comes back after the window, though its successor is unused", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user);
    const second = await refresh(keys, first.refresh_token as string);
    expect(second.status).toBe(200);
    advanceClock(31_000);
    const late = await refresh(keys, first.refresh_token as string);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe("invalid_grant");
    expect(late.body.error_description).toMatch(/already used/);
    expect(await introspect(second.body.access_token)).toEqual({ active: false });
    expect(await introspect(second.body.refresh_token as string)).toEqual({ active: false });
  });

  it("treats a spent token whose successor was already used as reuse, even inside the grace window", async () => {
    const { keys, user } = await setup();
    const first = await passwordToken(keys, user);
    const second = await refresh(keys, first.refresh_token as string);
    const third = await refresh(keys, second.body.refresh_token as string);
    const stale = await refresh(keys, first.refresh_token as string);
    expect(stale.body.error).toBe("invalid_grant");
    expect(await introspect(third.body.access_token)).toEqual({ active: false });
  });

  it("refuses another client's refresh token with invalid_grant and changes nothing", async () => {
    const { keys, user } = await setup();
    const other: TestApp = await createApp();
    const first = await passwordToken(keys, user);
    const stolen = await refresh(other.keys.PRODUCTION, first.refresh_token as string);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe("invalid_grant");
    const sibling = await refresh(other.keys.SANDBOX, first.refresh_token as string);
    expect(sibling.body.error).toBe("invalid_grant");
    expect((await introspect(first.access_token)).active).toBe(true);
    expect((await refresh(keys, first.refresh_token as string)).status).toBe(200);
  });

  it("refuses expired, revoked, unknown and malformed refresh tokens with invalid_grant", async () => {
    const { keys, user } = await setup();
    const toRevoke = await passwordToken(keys, user);
    const revoke = await fetchRevoke(keys, toRevoke.refresh_token as string);
    expect(revoke.status).toBe(200);
    expect((await refresh(keys, toRevoke.refresh_token as string)).body.error).toBe("invalid_grant");
    for (const bogus of [
      "nope",
      `${keys.consumerKey}.0.${"A".repeat(43)}`,
      `${keys.consumerKey}.99.${"A".repeat(43)}`,
    ]) {
      const result = await refresh(keys, bogus);
      expect(result.status).toBe(400);
      expect(result.body.error).toBe("invalid_grant");
    }
    const missing = await refresh(keys, "");
    expect(missing.body.error).toBe("invalid_request");
    const toExpire = await passwordToken(keys, user);
    advanceClock(86_400_000 + 1000);
    const expired = await refresh(keys, toExpire.refresh_token as string);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe("invalid_grant");
    expect(expired.body.error_description).toMatch(/expired/);
  });

  it("stores no token in plaintext after rotation, replay and reuse: spent rows hold their successor sealed", async () => {
    const { keys, user } = await setup({ shards: 1 });
    const first = await passwordToken(keys, user);
    const second = await refresh(keys, first.refresh_token as string);
    // A retry inside the grace window reads the successor back from the spent row.
    const retried = await refresh(keys, first.refresh_token as string);
    expect(retried.body.refresh_token).toBe(second.body.refresh_token);
    const third = await refresh(keys, second.body.refresh_token as string);
    expect(third.status).toBe(200);
    const issued = [first, second.body, third.body].flatMap((pair) => [
      pair.access_token,
      pair.refresh_token as string,
    ]);
    const expectNoPlaintext = async () => {
      const dump = JSON.stringify(await allRows(third.body.access_token));
      for (const value of issued) {
        expect(dump.includes(value), value).toBe(false);
        expect(dump.includes(value.split(".")[2] as string), value).toBe(false);
      }
    };
    const spent = (await familyRows(third.body.access_token)).filter((row) => row.state === "spent");
    expect(spent).toHaveLength(2);
    const sealed = await runInDurableObject(
      shardStub(env, { consumerKey: keys.consumerKey, shard: 0 }),
      (_i, state) =>
        state.storage.sql
          .exec("SELECT successor_sealed FROM tokens WHERE state = 'spent'")
          .toArray()
          .map((row) => row.successor_sealed as string),
    );
    for (const value of sealed) {
      expect(value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(() => JSON.parse(value)).toThrow();
    }
    await expectNoPlaintext();
    // Reuse after the window revokes the family; still nothing readable is left behind.
    advanceClock(31_000);
    expect((await refresh(keys, first.refresh_token as string)).body.error).toBe("invalid_grant");
    await expectNoPlaintext();
  });

  it("survives 100 sequential rotations without growing the family beyond what it needs", async () => {
    const { keys, user } = await setup({ shards: 1 });
    let current = await passwordToken(keys, user);
    for (let i = 0; i < 100; i++) {
      const next = await refresh(keys, current.refresh_token as string);
      expect(next.status).toBe(200);
      current = next.body;
    }
    expect((await introspect(current.access_token)).active).toBe(true);
    const rows = await familyRows(current.access_token);
    // The live pair plus the newest spent refresh tokens kept for reuse detection (SPENT_PER_FAMILY = 8).
    expect(rows.filter((row) => row.state === "active").length).toBe(2);
    expect(rows.filter((row) => row.state === "spent").length).toBe(8);
    expect(rows.length).toBe(10);
  });
});

function fetchRevoke(keys: { consumerKey: string; consumerSecret: string }, tokenValue: string) {
  return postForm("/revoke", { token: tokenValue }, { Authorization: basic(keys) });
}

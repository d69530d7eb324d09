import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mintToken, parseTokenRoute, type TokenRoute } from "../../src/core/token-format";
import { hashSecret } from "../../src/crypto/secrets";
import { shardStub, userStoreOf } from "../../src/durable/names";
import { STALE_CREDENTIAL } from "../../src/durable/shard/user-epochs";
import {
  admin,
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

/**
 * A refresh token row written straight into a shard, minted under the user's current epoch, without the shard
 * recording that epoch in its user_epochs table; returns the token.
 */
async function legacyFamily(shard: ReturnType<typeof shardStub>, route: TokenRoute, user: string) {
  const value = mintToken(route);
  const hash = await hashSecret(value);
  const epoch = await runInDurableObject(
    userStoreOf(env, user),
    (_instance, state) =>
      state.storage.sql.exec("SELECT epoch FROM users WHERE username = ?", user).one().epoch as number,
  );
  await runInDurableObject(shard, (_instance, state) => {
    state.storage.sql.exec(
      `INSERT INTO tokens (hash, kind, state, family, grant_type, user, scope, granted_scope, key_type, issued_at,
         expires_at, purge_after, user_epoch)
       VALUES (?, 'refresh', 'active', ?, 'password', ?, 'default', 'default', 'PRODUCTION', ?, ?, ?, ?)`,
      hash,
      `legacy-${user}`,
      user,
      Date.now(),
      Date.now() + 3_600_000,
      Date.now() + 3_600_000,
      epoch,
    );
  });
  return value;
}

const byUser = (a: { user: string }, b: { user: string }) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0);

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
    // A retry of the spent token inside the grace window is held to the grant's scope too.
    const retryWidened = await refresh(keys, first.refresh_token as string, { scope: "admin" });
    expect(retryWidened.status).toBe(400);
    expect(retryWidened.body.error).toBe("invalid_scope");
    const retry = await refresh(keys, first.refresh_token as string, { scope: "read" });
    expect(retry.body.refresh_token).toBe(narrowed.body.refresh_token);
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
    // An access token is no refresh token: refused, and it stays active.
    const live = await passwordToken(keys, user);
    const notRefresh = await refresh(keys, live.access_token);
    expect(notRefresh.status).toBe(400);
    expect(notRefresh.body).toMatchObject({
      error: "invalid_grant",
      error_description: "the refresh token is not valid",
    });
    expect((await introspect(live.access_token)).active).toBe(true);
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
      expect(value).toMatch(/^t\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(() => JSON.parse(value)).toThrow();
    }
    await expectNoPlaintext();
    // Reuse after the window revokes the family; still nothing readable is left behind.
    advanceClock(31_000);
    expect((await refresh(keys, first.refresh_token as string)).body.error).toBe("invalid_grant");
    await expectNoPlaintext();
  });

  it("asks the user store first when the shard has no epoch recorded for the family's user", async () => {
    const { keys } = await setup({ shards: 1 });
    const route = { consumerKey: keys.consumerKey, shard: 0 };
    const shard = shardStub(env, route);
    // Two users' families on a shard that has recorded no epoch for either user, and user stores unaware that
    // the shard holds their tokens (as shards that predate the user stores are). One password changes meanwhile.
    const kept = await createUser();
    const changed = await createUser();
    const keptFamily = await legacyFamily(shard, route, kept.canonical);
    const changedFamily = await legacyFamily(shard, route, changed.canonical);
    const patched = await admin("PATCH", `/users/${changed.username}`, { password: "another-Passw0rd" });
    expect(patched.status).toBe(200);

    const refused = await refresh(keys, changedFamily);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: "invalid_grant", error_description: STALE_CREDENTIAL });
    const rotated = await refresh(keys, keptFamily);
    expect(rotated.status).toBe(200);
    expect((await introspect(rotated.body.access_token)).username).toBe(kept.canonical);

    const stored = await runInDurableObject(shard, (_instance, state) => ({
      epochs: state.storage.sql.exec("SELECT user FROM user_epochs ORDER BY user").toArray(),
      states: state.storage.sql
        .exec("SELECT user, kind, state FROM tokens ORDER BY user, kind, state")
        .toArray(),
    }));
    // The refused family is untouched (its transaction rolled back, with the epoch fetched for it); the other
    // one rotated, and its user's epoch is recorded.
    expect(stored.epochs).toEqual([{ user: kept.canonical }]);
    expect(stored.states).toEqual(
      [
        { user: changed.canonical, kind: "refresh", state: "active" },
        { user: kept.canonical, kind: "access", state: "active" },
        { user: kept.canonical, kind: "refresh", state: "active" },
        { user: kept.canonical, kind: "refresh", state: "spent" },
      ].sort(byUser),
    );
    // Each store now counts the shard among its user's token places.
    for (const user of [kept, changed]) {
      const places = await runInDurableObject(userStoreOf(env, user.canonical), (_instance, state) =>
        state.storage.sql
          .exec("SELECT shard_name FROM token_places WHERE username = ?", user.canonical)
          .toArray(),
      );
      expect(places).toEqual([{ shard_name: `${keys.consumerKey}/0` }]);
    }
  });

  it("survives 100 sequential rotations without growing the family beyond what it needs", async () => {
    const { keys, user } = await setup({ shards: 1 });
    let current = await passwordToken(keys, user);
    const spent: string[] = [];
    for (let i = 0; i < 100; i++) {
      spent.push(current.refresh_token as string);
      const next = await refresh(keys, current.refresh_token as string);
      expect(next.status).toBe(200);
      current = next.body;
    }
    expect((await introspect(current.access_token)).active).toBe(true);
    // Each rotation deleted the access token it superseded; the spent refresh tokens wait for the clean-up.
    const before = await familyRows(current.access_token);
    expect(before.filter((row) => row.kind === "access").length).toBe(1);
    expect(before.filter((row) => row.state === "spent").length).toBe(100);
    const route = parseTokenRoute(current.access_token);
    if (!route) throw new Error("not a token");
    expect(await runDurableObjectAlarm(shardStub(env, route))).toBe(true);
    const rows = await familyRows(current.access_token);
    // The live pair plus the newest spent refresh tokens kept for reuse detection (SPENT_PER_FAMILY = 8).
    expect(rows.filter((row) => row.state === "active").length).toBe(2);
    expect(rows.filter((row) => row.state === "spent").length).toBe(8);
    expect(rows.length).toBe(10);
    // The eight kept are the newest eight.
    const kept = await runInDurableObject(shardStub(env, route), (_instance, state) =>
      state.storage.sql
        .exec("SELECT hash FROM tokens WHERE state = 'spent'")
        .toArray()
        .map((row) => row.hash as string),
    );
    const newest = await Promise.all(spent.slice(-8).map((value) => hashSecret(value)));
    expect(kept.sort()).toEqual(newest.sort());

    // Later trims look only at the families that rotated since the last one: this family and a new one.
    const other = await passwordToken(keys, user);
    let otherCurrent = other;
    for (let i = 0; i < 12; i++) {
      const next = await refresh(keys, current.refresh_token as string);
      const otherNext = await refresh(keys, otherCurrent.refresh_token as string);
      expect([next.status, otherNext.status]).toEqual([200, 200]);
      current = next.body;
      otherCurrent = otherNext.body;
    }
    expect(await runDurableObjectAlarm(shardStub(env, route))).toBe(true);
    const spentPerFamily = await runInDurableObject(shardStub(env, route), (_instance, state) =>
      state.storage.sql
        .exec("SELECT COUNT(*) AS n FROM tokens WHERE state = 'spent' GROUP BY family ORDER BY n")
        .toArray()
        .map((row) => row.n as number),
    );
    expect(spentPerFamily).toEqual([8, 8]);
  });
});

function fetchRevoke(keys: { consumerKey: string; consumerSecret: string }, tokenValue: string) {
  return postForm("/revoke", { token: tokenValue }, { Authorization: basic(keys) });
}

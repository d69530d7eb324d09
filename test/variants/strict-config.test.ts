import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.useRealTimers();
});

import { NEVER_EXPIRES_IN } from "../../src/core/config";
import { parseTokenRoute } from "../../src/core/token-format";
import { hashSecret } from "../../src/crypto/secrets";
import { shardStub } from "../../src/durable/names";
import { createApp, createUser, introspect, passwordToken, refresh, token } from "../helpers";
import { holdSealing } from "../interleave";

describe("TIMESTAMP_SKEW=300", () => {
  it("reports 3600 - 300 = 3300 to the client while validators honour the full hour", async () => {
    const app = await createApp();
    const before = Date.now();
    const issued = await token(app.keys.PRODUCTION, { grant_type: "client_credentials" });
    expect(issued.status).toBe(200);
    expect(issued.body.expires_in).toBe(3300);
    const info = await introspect(issued.body.access_token);
    expect(info.exp).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 3600);
    expect(info.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
  });

  it("reports never-expiring tokens as NEVER_EXPIRES_IN, unaffected by the skew", async () => {
    const app = await createApp();
    const user = await createUser();
    const body = await passwordToken(app.keys.PRODUCTION, user);
    expect(body.expires_in).toBe(NEVER_EXPIRES_IN);
    const route = parseTokenRoute(body.refresh_token as string);
    if (!route) throw new Error("bad token");
    const hash = await hashSecret(body.refresh_token as string);
    const row = await runInDurableObject(shardStub(env, route), (_i, state) =>
      state.storage.sql.exec("SELECT expires_at FROM tokens WHERE hash = ?", hash).one(),
    );
    expect(row.expires_at).toBeNull();
    // Introspection reports exp NEVER_EXPIRES_IN seconds after iat, as expires_in and a JWT's exp do.
    const described = await introspect(body.access_token);
    expect(described.exp).toBe((described.iat as number) + NEVER_EXPIRES_IN);
  });
});

describe("REFRESH_TOKEN_REUSE_GRACE=0 (strict single use)", () => {
  it("parallel refreshes that all pass the pre-check (RFC 9700 §4.14.2): one 200 whose tokens the others' reuse revokes; the rest invalid_grant", async () => {
    const app = await createApp();
    const user = await createUser();
    const first = await passwordToken(app.keys.PRODUCTION, user);
    // All 50 are held after the pre-check and before the decision (test/interleave.ts).
    const hold = holdSealing(50);
    let results: Awaited<ReturnType<typeof refresh>>[];
    try {
      results = await Promise.all(
        Array.from({ length: 50 }, () => refresh(app.keys.PRODUCTION, first.refresh_token as string)),
      );
    } finally {
      hold.restore();
    }
    expect(hold).toMatchObject({ arrived: 50, releasedBy: "all-arrived" });
    const ok = results.filter((result) => result.status === 200);
    const refused = results.filter(
      (result) => result.status === 400 && result.body.error === "invalid_grant",
    );
    expect(ok.length).toBe(1);
    expect(refused.length).toBe(49);
    // What each client sees: the losers were told the grant is revoked, and the winner's pair is dead with it.
    expect(refused.some((result) => /grant is revoked/.test(result.body.error_description ?? ""))).toBe(true);
    const winner = ok[0]?.body as { access_token: string; refresh_token: string };
    expect(await introspect(winner.access_token)).toEqual({ active: false });
    const again = await refresh(app.keys.PRODUCTION, winner.refresh_token);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");
    const route = parseTokenRoute(first.access_token);
    if (!route) throw new Error("bad token");
    const rows = await runInDurableObject(shardStub(env, route), (_i, state) =>
      state.storage.sql.exec("SELECT kind, state FROM tokens ORDER BY kind, state").toArray(),
    );
    // One rotation happened: the first refresh token, spent then revoked, and one successor pair.
    expect(rows).toEqual([
      { kind: "access", state: "revoked" },
      { kind: "refresh", state: "revoked" },
      { kind: "refresh", state: "revoked" },
    ]);
  });

  it("answers a sequential second use with invalid_grant and revokes the family", async () => {
    const app = await createApp();
    const user = await createUser();
    const first = await passwordToken(app.keys.PRODUCTION, user);
    const second = await refresh(app.keys.PRODUCTION, first.refresh_token as string);
    expect(second.status).toBe(200);
    const replay = await refresh(app.keys.PRODUCTION, first.refresh_token as string);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    expect(await introspect(second.body.access_token)).toEqual({ active: false });
    expect((await refresh(app.keys.PRODUCTION, second.body.refresh_token as string)).body.error).toBe(
      "invalid_grant",
    );
  });
});

describe("REFRESH_TOKEN_VALIDITY=-1 (never-expiring refresh tokens)", () => {
  it("keeps a spent refresh token through the clean-up alarm, so its reuse is still detected", async () => {
    const app = await createApp({ shards: 1 });
    const user = await createUser();
    const keys = app.keys.PRODUCTION;
    const first = await passwordToken(keys, user);
    const second = await refresh(keys, first.refresh_token as string);
    expect(second.status).toBe(200);
    const shard = shardStub(env, { consumerKey: keys.consumerKey, shard: 0 });
    const spentHash = await hashSecret(first.refresh_token as string);
    const spentRow = () =>
      runInDurableObject(shard, (_i, state) =>
        state.storage.sql.exec("SELECT state, purge_after FROM tokens WHERE hash = ?", spentHash).toArray(),
      );
    // Rotation arms the clean-up alarm; run it now, and again a day later.
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 86_400_000);
    await runInDurableObject(shard, (_i, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    const [row] = await spentRow();
    expect(row?.state).toBe("spent");
    expect(row?.purge_after as number).toBeGreaterThan(Date.now() + 20 * 86_400_000);

    const reuse = await refresh(keys, first.refresh_token as string);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error_description).toMatch(/already used/);
    expect(await introspect(second.body.access_token)).toEqual({ active: false });
    expect(await introspect(second.body.refresh_token as string)).toEqual({ active: false });
  });
});

import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardStub } from "../../src/durable/names";
import { createApp, createUser, passwordToken, refresh, token } from "../helpers";

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

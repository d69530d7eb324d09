import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../src/core/cache-keys";
import { parseTokenRoute } from "../../src/core/token-format";
import { hashSecret } from "../../src/crypto/secrets";
import { shardStub } from "../../src/durable/names";
import { callApi, subscribedCaller, validationCached } from "../gateway/gateway-helpers";
import { basic, createUser, passwordToken, postForm, refresh } from "../helpers";

const FAULT_KEY = "fault:revocation-markers";

async function failMarkerWrites(on: boolean): Promise<void> {
  if (on) await env.VALIDATION_CACHE.put(FAULT_KEY, "fail");
  else await env.VALIDATION_CACHE.delete(FAULT_KEY);
}

function shardOf(token: string) {
  const route = parseTokenRoute(token);
  if (!route) throw new Error("not a token");
  return shardStub(env, route);
}

async function pending(token: string): Promise<number> {
  return runInDurableObject(
    shardOf(token),
    (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM pending_purges").one().n as number,
  );
}

/** The revocation marker over the token's gateway entry, or null (a validation, or nothing). */
async function marker(token: string): Promise<unknown> {
  const entry = await env.VALIDATION_CACHE.get<{ revokedAt?: number }>(
    kvKeys.validation(await hashSecret(token)),
    "json",
  );
  return typeof entry?.revokedAt === "number" ? entry : null;
}

describe("a revocation whose purge KV refuses is not lost (README Revoke API)", () => {
  it("revoke: 503 while KV fails, the gateway still refuses after the outbox publishes; a repeated revoke re-publishes", async () => {
    const { path, accessToken, app } = await subscribedCaller();
    expect((await callApi(path, accessToken)).status).toBe(200);
    await validationCached(accessToken); // the gateway would now honour its cached entry for the TTL

    await failMarkerWrites(true);
    try {
      const revoked = await postForm(
        "/revoke",
        { token: accessToken },
        { Authorization: basic(app.keys.PRODUCTION) },
      );
      expect(revoked.status).toBe(503);
      expect(((await revoked.json()) as { error: string }).error).toBe("temporarily_unavailable");
      expect(revoked.headers.get("retry-after")).toBe("2");
      expect(await marker(accessToken)).toBeNull();
      expect(await pending(accessToken)).toBe(1);
      // The alarm retries while KV still fails, and keeps the purge pending.
      await runDurableObjectAlarm(shardOf(accessToken));
      expect(await pending(accessToken)).toBe(1);
      // A repeated revocation while KV fails: still 503, still pending.
      const again = await postForm(
        "/revoke",
        { token: accessToken },
        { Authorization: basic(app.keys.PRODUCTION) },
      );
      expect(again.status).toBe(503);
    } finally {
      await failMarkerWrites(false);
    }
    // KV is back: the alarm publishes the marker and empties the outbox; the gateway refuses the token.
    expect(await runDurableObjectAlarm(shardOf(accessToken))).toBe(true);
    expect(await marker(accessToken)).not.toBeNull();
    expect(await pending(accessToken)).toBe(0);
    expect((await callApi(path, accessToken)).status).toBe(401);
  });

  it("a repeated revoke writes the marker the first one could not (no alarm needed)", async () => {
    const { path, accessToken, app } = await subscribedCaller();
    expect((await callApi(path, accessToken)).status).toBe(200);
    await validationCached(accessToken);
    await failMarkerWrites(true);
    const first = await postForm(
      "/revoke",
      { token: accessToken },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    await failMarkerWrites(false);
    expect(first.status).toBe(503);
    const second = await postForm(
      "/revoke",
      { token: accessToken },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    expect(second.status).toBe(200);
    expect(second.headers.get("RevokedAccessToken")).toBeNull(); // already revoked: RFC 7009 §2.2's bare 200
    expect(await marker(accessToken)).not.toBeNull();
    expect((await callApi(path, accessToken)).status).toBe(401);
  });

  it("rotation: the new pair is answered, the old access token's purge waits in the outbox until KV has it", async () => {
    const user = await createUser();
    const { path, app } = await subscribedCaller({ owner: user.username });
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    expect((await callApi(path, pair.access_token)).status).toBe(200);
    await validationCached(pair.access_token);
    await failMarkerWrites(true);
    let rotated: Awaited<ReturnType<typeof refresh>>;
    try {
      rotated = await refresh(app.keys.PRODUCTION, pair.refresh_token as string);
    } finally {
      await failMarkerWrites(false);
    }
    expect(rotated.status).toBe(200);
    expect(await marker(pair.access_token)).toBeNull();
    expect(await pending(pair.access_token)).toBe(1);
    await runDurableObjectAlarm(shardOf(pair.access_token));
    expect(await pending(pair.access_token)).toBe(0);
    expect((await callApi(path, pair.access_token)).status).toBe(401);
    expect((await callApi(path, rotated.body.access_token)).status).toBe(200);
  });
});

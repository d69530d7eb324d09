import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { userShard } from "../../src/core/shard-routing";
import { shardStub, userStoreOf } from "../../src/durable/names";
import { STALE_CREDENTIAL } from "../../src/durable/shard/user-epochs";
import { checkUser } from "../../src/services/user-authentication";
import {
  admin,
  basic,
  createApp,
  createUser,
  introspect,
  type Keys,
  passwordToken,
  postForm,
  refresh,
  type TestApp,
  type TokenBody,
  token,
} from "../helpers";
import {
  authorizeCode,
  CALLBACK,
  loginToConsent,
  pkcePair,
  redeem,
  responseParams,
  submitConsent,
} from "./authorize-flow";

const SOURCE = "203.0.113.9";

const endings = {
  deletion: (user: { username: string }) => admin("DELETE", `/users/${user.username}`),
  "password change": (user: { username: string }) =>
    admin("PATCH", `/users/${user.username}`, { password: "another-Passw0rd" }),
} as const;

function credentialsOf(keys: Keys) {
  return {
    clientId: keys.consumerKey,
    clientSecret: keys.consumerSecret,
    method: "client_secret_basic" as const,
  };
}

/** Mints on the user's shard as the password grant does, with a credential checked earlier. */
async function mintWith(app: TestApp, user: string, epoch: number) {
  const keys = app.keys.PRODUCTION;
  const route = { consumerKey: keys.consumerKey, shard: userShard(user, 16) };
  return shardStub(env, route).issueToken({
    route,
    issuer: "http://localhost:8787",
    credentials: credentialsOf(keys),
    grantType: "password",
    scope: null,
    user,
    userEpoch: epoch,
    withRefresh: true,
  });
}

/**
 * Records, in order, a log-in admitted with the user's record (`checked`), the start of a user deletion
 * (`delete`) and a mint request reaching a token shard (`mint`), by wrapping the real classes' methods.
 */
async function traceEvents(): Promise<{ events: string[]; stop: () => Promise<void> }> {
  const events: string[] = [];
  const restores: Array<() => void> = [];
  const wrap = (
    prototype: Record<string, unknown>,
    name: string,
    before: (args: unknown[]) => void,
    after?: (value: unknown) => void,
  ) => {
    const original = prototype[name] as (...args: unknown[]) => Promise<unknown>;
    prototype[name] = async function (this: unknown, ...args: unknown[]) {
      before(args);
      const value = await original.apply(this, args);
      after?.(value);
      return value;
    };
    restores.push(() => {
      prototype[name] = original;
    });
  };
  await runInDurableObject(userStoreOf(env, "any-user-store"), (instance) => {
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    wrap(
      prototype,
      "beginLogin",
      () => {},
      (value) => {
        if ((value as { credential: unknown }).credential) events.push("checked");
      },
    );
    wrap(prototype, "deleteUser", () => events.push("delete"));
  });
  await runInDurableObject(shardStub(env, { consumerKey: "trace-probe", shard: 0 }), (instance) => {
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    wrap(prototype, "issueToken", () => events.push("mint"));
    wrap(
      prototype,
      "endUserCredentials",
      () => {},
      () => events.push("notified"),
    );
  });
  return {
    events,
    stop: async () => {
      for (const restore of restores.reverse()) restore();
    },
  };
}

describe("a deleted user, or one whose password changed, gains no token from a credential checked before", () => {
  for (const [ending, end] of Object.entries(endings)) {
    it(`consent submitted after the ${ending}: no code, access_denied at the client`, async () => {
      const app = await createApp({ callbackUrl: CALLBACK });
      const user = await createUser();
      const { challenge } = await pkcePair();
      const consent = await loginToConsent(
        {
          response_type: "code",
          client_id: app.keys.PRODUCTION.consumerKey,
          redirect_uri: CALLBACK,
          code_challenge: challenge,
          code_challenge_method: "S256",
          state: "st",
        },
        user,
      );
      expect((await end(user)).status).toBeLessThan(300);
      const response = await submitConsent(consent, "approve");
      expect(response.status).toBe(303);
      const params = responseParams(response);
      expect(params.get("code")).toBeNull();
      expect(params.get("error")).toBe("access_denied");
      expect(params.get("state")).toBe("st");
    });

    it(`implicit consent submitted after the ${ending}: no token`, async () => {
      const app = await createApp({ callbackUrl: CALLBACK });
      const user = await createUser();
      const consent = await loginToConsent(
        { response_type: "token", client_id: app.keys.PRODUCTION.consumerKey, redirect_uri: CALLBACK },
        user,
      );
      await end(user);
      const response = await submitConsent(consent, "approve");
      const params = responseParams(response, "fragment");
      expect(params.get("access_token")).toBeNull();
      expect(params.get("error")).toBe("access_denied");
    });

    it(`password grant checked before the ${ending}, minted after: refused, on a used shard and on a new one`, async () => {
      const used = await createApp();
      const fresh = await createApp();
      const user = await createUser();
      await passwordToken(used.keys.PRODUCTION, user); // the user's shard of `used` now holds a family
      const checked = await checkUser(env, user.username, user.password, SOURCE);
      if (!checked.ok) throw new Error("the password should check");
      await end(user);
      for (const app of [used, fresh]) {
        const result = await mintWith(app, checked.username, checked.epoch);
        expect(result.ok).toBe(false);
        if (!result.ok)
          expect(result.failure).toEqual({ error: "invalid_grant", description: STALE_CREDENTIAL });
      }
    });

    it(`a code and a refresh family from before the ${ending} mint nothing`, async () => {
      const app = await createApp({ callbackUrl: CALLBACK });
      const user = await createUser();
      const keys = app.keys.PRODUCTION;
      const pair = await passwordToken(keys, user);
      const pkce = await pkcePair();
      const { code } = await authorizeCode(keys, user, {
        code_challenge: pkce.challenge,
        code_challenge_method: "S256",
      });
      await end(user);
      const redeemed = await redeem(keys, { code, redirect_uri: CALLBACK, code_verifier: pkce.verifier });
      expect(redeemed.status).toBe(400);
      expect(redeemed.body.error).toBe("invalid_grant");
      const refreshed = await refresh(keys, pair.refresh_token as string);
      expect(refreshed.status).toBe(400);
      expect(await introspect(pair.access_token)).toEqual({ active: false });
    });

    it(`jwt-bearer and token exchange credentials from before the ${ending} mint nothing`, async () => {
      const app = await createApp();
      const user = await createUser();
      const subject = await passwordToken(app.keys.PRODUCTION, user);
      const route = { consumerKey: app.keys.PRODUCTION.consumerKey, shard: userShard(user.canonical, 16) };
      // What token exchange learns of its subject token, and what an accepted assertion names.
      const described = await shardStub(env, route).describeSubjectToken(subject.access_token);
      const credential = await userStoreOf(env, user.username).findUser(user.username);
      if (!described || !credential) throw new Error("setup");
      await end(user);
      const other = await createApp();
      for (const epoch of [described.userEpoch, credential.epoch]) {
        const result = await mintWith(other, user.canonical, epoch);
        expect(result.ok).toBe(false);
      }
    });
  }

  it("a user deleted and created again gets a new epoch: new credentials work, old ones never", async () => {
    const app = await createApp();
    const user = await createUser();
    const old = await checkUser(env, user.username, user.password, SOURCE);
    if (!old.ok) throw new Error("setup");
    await endings.deletion(user);
    await createUser(user.username, user.password);
    const fresh = await checkUser(env, user.username, user.password, SOURCE);
    if (!fresh.ok) throw new Error("setup");
    expect(fresh.epoch).toBeGreaterThan(old.epoch);
    expect((await mintWith(app, old.username, old.epoch)).ok).toBe(false);
    expect((await token(app.keys.PRODUCTION, { grant_type: "password", ...user })).status).toBe(200);
    expect((await mintWith(app, old.username, old.epoch)).ok).toBe(false);
  });

  it("password grants racing a deletion: once DELETE has answered, no token of the user is active", async () => {
    const trace = await traceEvents();
    try {
      let interleaved = false;
      for (let round = 0; round < 5 && !interleaved; round++) {
        const app = await createApp();
        const user = await createUser();
        await passwordToken(app.keys.PRODUCTION, user);
        trace.events.length = 0;
        // Real parallel grants, each from its own address (so that the per-source throttle admits them all),
        // started one every 4 ms across the deletion.
        const grants = Array.from({ length: 30 }, (_, i) =>
          new Promise((resolve) => setTimeout(resolve, i * 4)).then(() =>
            postForm(
              "/token",
              { grant_type: "password", username: user.username, password: user.password },
              { Authorization: basic(app.keys.PRODUCTION), "CF-Connecting-IP": `192.0.${round}.${i}` },
            ).then(async (response) => ({
              status: response.status,
              body: (await response.json()) as TokenBody,
            })),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 20 + (round % 5) * 12));
        const deleted = await endings.deletion(user);
        expect(deleted.status).toBe(204);
        const results = await Promise.all(grants);
        for (const result of results) {
          expect(result.status, JSON.stringify(result.body)).toBeLessThan(500);
          if (result.status !== 200) continue;
          expect(await introspect(result.body.access_token)).toEqual({ active: false });
          expect((await refresh(app.keys.PRODUCTION, result.body.refresh_token as string)).status).toBe(400);
        }
        const shard = shardStub(env, {
          consumerKey: app.keys.PRODUCTION.consumerKey,
          shard: userShard(user.canonical, 16),
        });
        const live = await runInDurableObject(
          shard,
          (_i, state) =>
            state.storage.sql.exec("SELECT COUNT(*) AS n FROM tokens WHERE state = 'active'").one().n,
        );
        expect(live).toBe(0);
        // Interleaving proof: when the deletion began, more grants had passed the password check than had
        // reached the shard to mint, so at least one checked its password before the deletion and minted after
        // the deletion began. (In the test pool the Worker and every Durable Object share one isolate, so a mint
        // rarely lands after the shard has recorded the deletion; the tests above drive that case step by step.)
        const began = trace.events.indexOf("delete");
        const before = trace.events.slice(0, began);
        interleaved =
          began > 0 &&
          before.filter((e) => e === "checked").length > before.filter((e) => e === "mint").length;
      }
      expect(interleaved).toBe(true);
    } finally {
      await trace.stop();
    }
  }, 90_000);
});

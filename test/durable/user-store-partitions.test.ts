import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import { parseTokenRoute, type TokenRoute } from "../../src/core/token-format";
import { allUserStores, userStoreName } from "../../src/core/user-store-routing";
import { shardStub, userStoreOf } from "../../src/durable/names";
import { admin, adminJson, basic, createApp, postForm, unique } from "../helpers";
import { storedUsers } from "./user-names";

/**
 * User-store partitions (README "Users: the user store"): the suites run with USER_STORE_PARTITIONS = "FOO"
 * (vitest.config.ts), so FOO users and their tokens live in objects of their own. Storage is read through the
 * production stubs (src/durable/names.ts), object by object.
 */
const PARTITIONS = readConfig(env).partitions;

/** The token rows of a user on one shard: access and refresh tokens, by hash (the shard stores no token). */
async function userTokenRows(route: TokenRoute, user: string): Promise<number> {
  return runInDurableObject(
    shardStub(env, route),
    (_instance, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tokens WHERE user = ?", user).one().n,
  );
}

function grant(keys: { consumerKey: string; consumerSecret: string }, params: Record<string, string>) {
  return postForm("/token", params, { Authorization: basic(keys) });
}

describe("a partitioned user-store domain keeps its users and tokens in objects of its own", () => {
  it("stores a FOO user's credentials only in FOO's user store, and its token rows only in FOO's shards", async () => {
    expect([...PARTITIONS.keys()]).toEqual(["FOO"]);
    const app = await createApp();
    const keys = app.keys.PRODUCTION;
    const name = unique("partitioned");
    const foo = `FOO/${name}@carbon.super`;
    const primary = `${name}@carbon.super`;
    await adminJson("POST", "/users", { username: `FOO/${name}`, password: "foo-Passw0rd" });
    await adminJson("POST", "/users", { username: name, password: "primary-Passw0rd" });

    // Credentials: in exactly one store each, FOO's in FOO's partition, never in a shared one.
    const holders = new Map<string, string[]>();
    for (const route of allUserStores(PARTITIONS)) {
      for (const user of await storedUsers(route)) {
        if (user === foo || user === primary)
          holders.set(user, [...(holders.get(user) ?? []), userStoreName(route)]);
      }
    }
    expect(holders.get(foo)).toHaveLength(1);
    expect(holders.get(foo)?.[0]).toMatch(/^users:FOO\/\d+$/);
    expect(holders.get(primary)).toHaveLength(1);
    expect(holders.get(primary)?.[0]).toMatch(/^users\/\d+$/);

    // Tokens: the routing part names FOO's shard, and any spelling of the user reaches the same one.
    const issued = await grant(keys, {
      grant_type: "password",
      username: `foo/${name}`,
      password: "foo-Passw0rd",
    });
    expect(issued.status).toBe(200);
    const body = (await issued.json()) as { access_token: string; refresh_token: string };
    const route = parseTokenRoute(body.access_token) as TokenRoute;
    expect(route.partition).toBe("FOO");
    expect(parseTokenRoute(body.refresh_token)).toEqual(route);
    const rotated = await grant(keys, { grant_type: "refresh_token", refresh_token: body.refresh_token });
    expect(rotated.status).toBe(200);
    const next = (await rotated.json()) as { access_token: string };
    expect(parseTokenRoute(next.access_token)).toEqual(route);

    // Every shard of the key, shared and FOO's: the FOO user's rows are on FOO's shard only.
    const shards = (app as unknown as { shards: number }).shards ?? 16;
    const counts: Record<string, number> = {};
    for (let shard = 0; shard < shards; shard++) {
      for (const partition of [undefined, "FOO"] as const) {
        const place = partition
          ? { consumerKey: keys.consumerKey, shard, partition }
          : { consumerKey: keys.consumerKey, shard };
        const n = await userTokenRows(place, foo);
        if (n > 0) counts[`${partition ?? "shared"}/${shard}`] = n;
      }
    }
    expect(Object.keys(counts)).toEqual([`FOO/${route.shard}`]);
    expect(counts[`FOO/${route.shard}`]).toBeGreaterThanOrEqual(3);

    // The partition's tokens are found from the token alone (introspection, the gateway's path too), and a
    // password change reaches them there.
    const introspect = (token: string) => postForm("/introspect", { token }, { Authorization: basic(keys) });
    expect(((await (await introspect(next.access_token)).json()) as { active: boolean }).active).toBe(true);
    expect((await admin("PATCH", `/users/FOO%2F${name}`, { password: "changed-Passw0rd" })).status).toBe(200);
    expect(await (await introspect(next.access_token)).json()).toEqual({ active: false });
  });

  it("revokes a partition's tokens when their application is deleted (its shards hold the key's record too)", async () => {
    const app = await createApp();
    const name = unique("foodel");
    await adminJson("POST", "/users", { username: `FOO/${name}`, password: "foo-Passw0rd" });
    const issued = await grant(app.keys.PRODUCTION, {
      grant_type: "password",
      username: `FOO/${name}`,
      password: "foo-Passw0rd",
    });
    const { access_token: accessToken } = (await issued.json()) as { access_token: string };
    const route = parseTokenRoute(accessToken) as TokenRoute;
    expect(route.partition).toBe("FOO");
    expect((await admin("DELETE", `/applications/${app.id}`)).status).toBe(204);
    const active = await runInDurableObject(
      shardStub(env, route),
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tokens WHERE state = 'active'").one()
          .n,
    );
    expect(active).toBe(0);
  });
});

describe("a partition pinned to a jurisdiction", () => {
  /**
   * workerd (wrangler dev, these tests) does not implement jurisdictions: `jurisdiction()` throws there. So the
   * bindings are wrapped, here in the test only: the wrapper records the jurisdiction asked for and hands back
   * the real namespace, and the production stubs must go through it for the pinned partition and only for it.
   */
  function pinnedEnv() {
    const asked: string[] = [];
    const wrap = <T extends DurableObjectNamespace<never>>(namespace: T, label: string): T =>
      new Proxy(namespace, {
        get(target, property) {
          if (property === "jurisdiction") {
            return (jurisdiction: string) => {
              asked.push(`${label}:${jurisdiction}`);
              return target;
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    const pinned = {
      ...env,
      USER_STORE_PARTITIONS: "FOO, EUSTORE:eu",
      USER_STORES: wrap(env.USER_STORES as unknown as DurableObjectNamespace<never>, "users"),
      CLIENT_SHARDS: wrap(env.CLIENT_SHARDS as unknown as DurableObjectNamespace<never>, "shards"),
    } as unknown as Env;
    return { pinned, asked };
  }

  it("constructs the pinned partition's user stores and token shards through the jurisdiction API", async () => {
    const { pinned, asked } = pinnedEnv();
    expect(readConfig(pinned).partitions.get("EUSTORE")).toEqual({ domain: "EUSTORE", jurisdiction: "eu" });
    // Shared and FOO: no jurisdiction.
    userStoreOf(pinned, "alice");
    userStoreOf(pinned, "FOO/alice");
    shardStub(pinned, { consumerKey: "pinnedkey01", shard: 1, partition: "FOO" });
    expect(asked).toEqual([]);
    // EUSTORE: its user store and its shards come from the eu namespace, and answer.
    const store = userStoreOf(pinned, "EUSTORE/alice");
    shardStub(pinned, { consumerKey: "pinnedkey01", shard: 1, partition: "EUSTORE" });
    expect(asked).toEqual(["users:eu", "shards:eu"]);
    expect((await store.getUser("EUSTORE/alice@carbon.super")).ok).toBe(false);
  });

  it("refuses an unknown jurisdiction in the configuration", () => {
    expect(() => readConfig({ USER_STORE_PARTITIONS: "EUSTORE:mars" })).toThrow(/jurisdiction/);
    expect(() => readConfig({ USER_STORE_PARTITIONS: "PRIMARY" })).toThrow(/PRIMARY/);
  });
});

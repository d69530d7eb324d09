import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import { userShard } from "../../src/core/shard-routing";
import { shardName } from "../../src/core/token-format";
import { userStoreName, userStoreRoute } from "../../src/core/user-store-routing";
import { hashPassword } from "../../src/crypto/password";
import { registryStub, shardStub, userStoreOf } from "../../src/durable/names";
import { UserAccounts } from "../../src/durable/users/accounts";
import { type ImportState, importLegacyUsers, LEGACY_IMPORT } from "../../src/durable/users/legacy-import";
import { TokenPlaces } from "../../src/durable/users/token-places";
import { admin, basic, createApp, postForm, unique } from "../helpers";

/**
 * State from before the user store (README "Users: the user store"): users, their epochs and the epoch counter
 * in the registry's SQLite, and a token shard that learnt a user's epoch from the registry. The user store must
 * take them over on its first start: the user logs in as before, a password change still reaches that shard, and
 * every epoch the store hands out afterwards is newer than any the registry did.
 */
const REGISTRY_COUNTER = 7;
const LEGACY_EPOCH = 3;
const PASSWORD = "legacy-Passw0rd";

async function seedLegacyUser(
  name: string,
  consumerKey: string,
): Promise<{ canonical: string; shard: number }> {
  const canonical = `${name}@carbon.super`;
  const shard = userShard(canonical, 16);
  const hash = JSON.stringify(await hashPassword(PASSWORD, 1));
  await runInDurableObject(registryStub(env), (_instance, state) => {
    const sql = state.storage.sql;
    sql.exec(
      `INSERT INTO users (username, name, tenant, user_store_domain, password, created_at, epoch)
       VALUES (?, ?, 'carbon.super', 'PRIMARY', ?, 1, ?)`,
      canonical,
      name,
      hash,
      LEGACY_EPOCH,
    );
    sql.exec("UPDATE user_epoch_counter SET value = MAX(value, ?) WHERE id = 1", REGISTRY_COUNTER);
    // The registry pushed this key's record to the user's shard, so it told that shard of the user's changes.
    sql.exec("INSERT OR IGNORE INTO key_shards (consumer_key, shard) VALUES (?, ?)", consumerKey, shard);
  });
  // ...and the shard had asked the registry for the user's epoch, so it will not ask the user store.
  await runInDurableObject(shardStub(env, { consumerKey, shard }), (_instance, state) => {
    state.storage.sql.exec(
      "INSERT OR IGNORE INTO user_epochs (user, epoch, live) VALUES (?, ?, 1)",
      canonical,
      LEGACY_EPOCH,
    );
  });
  return { canonical, shard };
}

async function registryHas(canonical: string): Promise<boolean> {
  return runInDurableObject(
    registryStub(env),
    (_instance, state) =>
      state.storage.sql.exec("SELECT 1 FROM users WHERE username = ?", canonical).toArray().length > 0,
  );
}

async function storedUser(canonical: string) {
  return runInDurableObject(userStoreOf(env, canonical), (_instance, state) => ({
    row: state.storage.sql
      .exec<{ epoch: number; password: string }>(
        "SELECT epoch, password FROM users WHERE username = ?",
        canonical,
      )
      .toArray()[0],
    places: new TokenPlaces(state.storage.sql).of(canonical),
    counter: state.storage.sql.exec<{ value: number }>("SELECT value FROM user_epoch_counter").one().value,
    importState: state.storage.kv.get<ImportState>(LEGACY_IMPORT),
  }));
}

function introspect(keys: { consumerKey: string; consumerSecret: string }, token: string) {
  return postForm("/introspect", { token }, { Authorization: basic(keys) });
}

describe("existing users move from the registry to the user stores on first start", () => {
  it("takes over users, epochs and the shards that know them, then forgets them in the registry", async () => {
    const app = await createApp();
    const keys = app.keys.PRODUCTION;
    const name = unique("legacy");
    const { canonical, shard } = await seedLegacyUser(name, keys.consumerKey);

    // The user's store has not started yet: its first request takes the users over before it answers.
    const granted = await postForm(
      "/token",
      { grant_type: "password", username: name, password: PASSWORD },
      { Authorization: basic(keys) },
    );
    expect(granted.status).toBe(200);
    const { access_token: accessToken } = (await granted.json()) as { access_token: string };
    expect(accessToken.split(".")[1]).toBe(String(shard));

    const after = await storedUser(canonical);
    expect(after.row?.epoch).toBe(LEGACY_EPOCH);
    expect(after.places).toEqual([shardName({ consumerKey: keys.consumerKey, shard })]);
    expect(after.counter).toBeGreaterThanOrEqual(REGISTRY_COUNTER);
    expect(after.importState).toBe("done");
    expect(await registryHas(canonical)).toBe(false);

    // A password change reaches the shard that learnt the user's epoch from the registry: the token dies, and
    // the new epoch is newer than anything the registry handed out.
    expect((await admin("PATCH", `/users/${name}`, { password: "new-Passw0rd" })).status).toBe(200);
    expect(await (await introspect(keys, accessToken)).json()).toEqual({ active: false });
    const changed = await storedUser(canonical);
    expect(changed.row?.epoch).toBeGreaterThan(REGISTRY_COUNTER);
  });

  it("is idempotent: a repeated or interrupted take-over never brings back an old password or epoch", async () => {
    const app = await createApp();
    const name = unique("again");
    const { canonical } = await seedLegacyUser(name, app.keys.PRODUCTION.consumerKey);
    expect((await admin("PATCH", `/users/${name}`, { password: "newer-Passw0rd" })).status).toBe(200);
    const changed = await storedUser(canonical);
    expect(changed.row?.epoch).toBeGreaterThan(REGISTRY_COUNTER);
    expect(await registryHas(canonical)).toBe(false);

    // The registry still holds the old row (as after a crash between the two steps), once with the store's
    // record of the first step and once without it: the take-over runs again, and changes nothing here.
    for (const state of ["stored", undefined] as const) {
      await seedLegacyUser(name, app.keys.PRODUCTION.consumerKey);
      await runInDurableObject(userStoreOf(env, canonical), async (_instance, durable) => {
        if (state) durable.storage.kv.put<ImportState>(LEGACY_IMPORT, state);
        else durable.storage.kv.delete(LEGACY_IMPORT);
        const accounts = new UserAccounts(durable.storage.sql);
        const places = new TokenPlaces(durable.storage.sql);
        const route = userStoreRoute(canonical, readConfig(env).partitions);
        expect(userStoreName(route)).toBe(durable.id.name);
        await importLegacyUsers(env, durable.storage, route, accounts, places);
      });
      const again = await storedUser(canonical);
      expect(again.row).toEqual(changed.row);
      expect(again.importState).toBe("done");
      expect(await registryHas(canonical)).toBe(false);
    }
    const signIn = (password: string) =>
      postForm(
        "/token",
        { grant_type: "password", username: name, password },
        { Authorization: basic(app.keys.PRODUCTION) },
      );
    expect((await signIn(PASSWORD)).status).toBe(400);
    expect((await signIn("newer-Passw0rd")).status).toBe(200);
  });
});

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loginPrincipal } from "../../src/core/identity";
import { parseTokenRoute, type TokenRoute } from "../../src/core/token-format";
import { shardStub, userStoreOf } from "../../src/durable/names";
import { adminJson, basic, createApp, createUser, postForm, unique } from "../helpers";

const ATTACKER = "203.0.113.66";
const USER_SIDE = "198.51.100.10";

function passwordGrant(
  keys: { consumerKey: string; consumerSecret: string },
  username: string,
  password: string,
  source: string,
) {
  return postForm(
    "/token",
    { grant_type: "password", username, password },
    { Authorization: basic(keys), "CF-Connecting-IP": source },
  );
}

/** Counts the user stores' finishLogin calls: one per log-in attempt whose password was actually evaluated. */
async function countEvaluations(): Promise<{ failures: () => number; stop: () => Promise<void> }> {
  const seen: string[] = [];
  let restore = () => {};
  await runInDurableObject(userStoreOf(env, "any-user-store"), (instance) => {
    const prototype = Object.getPrototypeOf(instance) as { finishLogin: (...args: unknown[]) => unknown };
    const original = prototype.finishLogin;
    prototype.finishLogin = function (this: unknown, ...args: unknown[]) {
      seen.push(String(args[2]));
      return original.apply(this, args);
    };
    restore = () => {
      prototype.finishLogin = original;
    };
  });
  return {
    failures: () => seen.filter((outcome) => outcome === "failure").length,
    stop: async () => restore(),
  };
}

/** The user store's admission of a log-in attempt, as src/services/user-authentication.ts asks for it. */
function beginLogin(name: string, source: string) {
  const principal = loginPrincipal(name);
  return userStoreOf(env, principal).beginLogin(principal, source);
}

describe("lock-out and throttling (README): per source, exact under concurrency, no user enumeration", () => {
  it("30 parallel wrong passwords from one source: exactly 5 are evaluated; the right password from another source still works", async () => {
    const app = await createApp();
    const user = await createUser();
    const counter = await countEvaluations();
    let answers: Response[];
    try {
      answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          passwordGrant(app.keys.PRODUCTION, user.username, `wrong-${i}`, ATTACKER),
        ),
      );
      expect(counter.failures()).toBe(5);
    } finally {
      await counter.stop();
    }
    const bodies = await Promise.all(answers.map((answer) => answer.json()));
    // Every answer is the same, evaluated or not.
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([400]));
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
    // The attacker's source is refused even with the right password; the user's own source is not.
    expect((await passwordGrant(app.keys.PRODUCTION, user.username, user.password, ATTACKER)).status).toBe(
      400,
    );
    expect((await passwordGrant(app.keys.PRODUCTION, user.username, user.password, USER_SIDE)).status).toBe(
      200,
    );
  });

  it("the user store admits at most 5 attempts per source at once, before any is evaluated", async () => {
    const user = await createUser();
    // 30 parallel admissions with none finished yet: a count taken only after evaluating would admit them all.
    const gates = await Promise.all(
      Array.from({ length: 30 }, () => beginLogin(user.username, "203.0.113.80")),
    );
    expect(gates.filter((entry) => entry.gate.ok)).toHaveLength(5);
    expect(gates.filter((entry) => entry.gate.ok && entry.credential !== null)).toHaveLength(5);
    // Another source is admitted, and an unknown name is treated exactly alike.
    expect((await beginLogin(user.username, "203.0.113.81")).gate.ok).toBe(true);
    const ghost = await Promise.all(
      Array.from({ length: 30 }, () => beginLogin(unique("ghost"), "203.0.113.80")),
    );
    expect(ghost.every((entry) => entry.gate.ok && entry.credential === null)).toBe(true);
    const sameGhost = unique("ghost");
    const repeated = await Promise.all(
      Array.from({ length: 30 }, () => beginLogin(sameGhost, "203.0.113.80")),
    );
    expect(repeated.filter((entry) => entry.gate.ok)).toHaveLength(5);
  });

  it("answers a throttled existing user, an unknown user and a wrong password alike (no enumeration)", async () => {
    const app = await createApp();
    const user = await createUser();
    const ghost = unique("ghost");
    const source = "203.0.113.70";
    for (const name of [user.username, ghost]) {
      for (let i = 0; i < 5; i++)
        await (await passwordGrant(app.keys.PRODUCTION, name, `bad-${i}`, source)).text();
    }
    const answers = [
      await passwordGrant(app.keys.PRODUCTION, user.username, "wrong", "203.0.113.71"), // wrong password
      await passwordGrant(app.keys.PRODUCTION, unique("ghost"), "x", "203.0.113.71"), // unknown user
      await passwordGrant(app.keys.PRODUCTION, user.username, user.password, source), // throttled, right password
      await passwordGrant(app.keys.PRODUCTION, ghost, "x", source), // throttled, unknown user
    ];
    const seen = await Promise.all(
      answers.map(async (answer) => ({
        status: answer.status,
        body: await answer.text(),
        retryAfter: answer.headers.get("retry-after"),
      })),
    );
    expect(new Set(seen.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(seen[0]?.status).toBe(400);
  });

  it("30 parallel wrong secrets from one source: exactly 5 are evaluated, over all shards; other sources unaffected", async () => {
    const app = await createApp();
    const keys = app.keys.PRODUCTION;
    const wrong = { consumerKey: keys.consumerKey, consumerSecret: "wrong-secret" };
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        // client_credentials picks a random shard; /introspect authenticates on one too: spread over the shards.
        postForm(
          i % 2 ? "/token" : "/introspect",
          { grant_type: "client_credentials", token: "x" },
          {
            Authorization: basic(wrong),
            "CF-Connecting-IP": ATTACKER,
          },
        ),
      ),
    );
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as Array<{
      error: string;
      error_description: string;
    }>;
    expect(answers.every((answer) => answer.status === 401)).toBe(true);
    expect(bodies.filter((body) => body.error_description === "client authentication failed")).toHaveLength(
      5,
    );
    expect(bodies.filter((body) => /too many failed/.test(body.error_description))).toHaveLength(25);
    // The right secret: refused from the attacker's address, accepted from any other.
    const fromAttacker = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      {
        Authorization: basic(keys),
        "CF-Connecting-IP": ATTACKER,
      },
    );
    expect(fromAttacker.status).toBe(401);
    expect(Number(fromAttacker.headers.get("retry-after"))).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) {
      const legit = await postForm(
        "/token",
        { grant_type: "client_credentials" },
        {
          Authorization: basic(keys),
          "CF-Connecting-IP": USER_SIDE,
        },
      );
      expect(legit.status).toBe(200);
    }
  });

  it("counts wrong secrets at a partition's shard on the key's shared home shard, one count per key and source", async () => {
    const app = await createApp();
    const keys = app.keys.PRODUCTION;
    const name = unique("partitioned");
    await adminJson("POST", "/users", { username: `FOO/${name}`, password: "foo-Passw0rd" });
    const issued = await postForm(
      "/token",
      { grant_type: "password", username: `FOO/${name}`, password: "foo-Passw0rd" },
      { Authorization: basic(keys), "CF-Connecting-IP": USER_SIDE },
    );
    const pair = (await issued.json()) as { refresh_token: string };
    const route = parseTokenRoute(pair.refresh_token) as TokenRoute;
    expect(route.partition).toBe("FOO");
    const wrong = { consumerKey: keys.consumerKey, consumerSecret: "wrong-secret" };
    const refreshAs = (credentials: typeof keys, source: string) =>
      postForm(
        "/token",
        { grant_type: "refresh_token", refresh_token: pair.refresh_token },
        { Authorization: basic(credentials), "CF-Connecting-IP": source },
      );

    // Five failures are evaluated, the sixth is refused: the count lives on the shared shard 0, as the shared
    // shards' counts do, so a source gets five tries per key however it spreads them.
    const descriptions: string[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await refreshAs(wrong, ATTACKER);
      expect(answer.status).toBe(401);
      descriptions.push(((await answer.json()) as { error_description: string }).error_description);
    }
    expect(descriptions.slice(0, 5)).toEqual(Array(5).fill("client authentication failed"));
    expect(descriptions[5]).toMatch(/too many failed/);
    const failuresAt = (place: TokenRoute) =>
      runInDurableObject(shardStub(env, place), (_instance, state) =>
        state.storage.sql.exec("SELECT source, failures FROM source_failures ORDER BY source").toArray(),
      );
    // (and in the key-wide count, `*`, that slows every source down past its own threshold)
    expect(await failuresAt({ consumerKey: keys.consumerKey, shard: 0 })).toEqual([
      { source: "*", failures: 5 },
      { source: ATTACKER, failures: 5 },
    ]);
    expect(await failuresAt(route)).toEqual([]);

    // The lock holds on the key's shared shards and, once told, on the partition's shard, for the right secret
    // too; another source still rotates.
    const shared = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      { Authorization: basic(keys), "CF-Connecting-IP": ATTACKER },
    );
    expect(shared.status).toBe(401);
    expect((await refreshAs(keys, ATTACKER)).status).toBe(401);
    expect((await refreshAs(keys, USER_SIDE)).status).toBe(200);
  });
});

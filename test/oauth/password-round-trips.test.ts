import { describe, expect, it } from "vitest";
import { countDurableObjectCalls } from "../gateway/gateway-helpers";
import { createApp, createUser, passwordToken, token } from "../helpers";

describe("the password grant's round trips", () => {
  it("a good password costs two calls to the user's store (admit the attempt, clear it), one shard call, no registry call", async () => {
    const app = await createApp();
    const user = await createUser();
    await passwordToken(app.keys.PRODUCTION, user); // the Worker now knows the key's shards
    const counter = await countDurableObjectCalls();
    try {
      await passwordToken(app.keys.PRODUCTION, user);
      // The attempt is counted before the password is evaluated (exact throttling, README "Lock-out and
      // throttling"), so a success must clear it: the second registry call.
      expect({ ...counter }).toMatchObject({ userStore: 2, registry: 0, shard: 1 });
    } finally {
      await counter.stop();
    }
  });

  it("a wrong password costs the admission, the client's authentication and the failure's record", async () => {
    const app = await createApp();
    const user = await createUser();
    await passwordToken(app.keys.PRODUCTION, user);
    const counter = await countDurableObjectCalls();
    try {
      const denied = await token(app.keys.PRODUCTION, {
        grant_type: "password",
        username: user.username,
        password: "wrong-password",
      });
      expect(denied.status).toBe(400);
      expect(denied.body.error).toBe("invalid_grant");
      expect({ ...counter }).toMatchObject({ userStore: 2, registry: 0, shard: 1 });
    } finally {
      await counter.stop();
    }
  });

  it("a client without its secret learns nothing about the user and cannot lock the user out", async () => {
    const app = await createApp();
    const user = await createUser();
    const badClient = { ...app.keys.PRODUCTION, consumerSecret: "not-the-secret" };
    const wrong = { grant_type: "password", username: user.username, password: "wrong-password" };
    // Four refused clients and one wrong password from the real client: five failures, were they all counted.
    for (let i = 0; i < 4; i++) {
      const refused = await token(badClient, wrong);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe("invalid_client");
    }
    expect((await token(app.keys.PRODUCTION, wrong)).body.error).toBe("invalid_grant");
    const granted = await token(app.keys.PRODUCTION, { ...wrong, password: user.password });
    expect(granted.status).toBe(200);
  });
});

import { describe, expect, it } from "vitest";
import { basic, createApp, createUser, expectIssued, postForm, type TokenBody } from "./helpers";

describe("smoke", () => {
  it("issues a client_credentials token to the key, owned by the application's owner", async () => {
    const app = await createApp();
    const response = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    const body = (await response.json()) as TokenBody;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.expires_in).toBe(3600);
    await expectIssued(body, app.keys.PRODUCTION, {
      username: "admin@carbon.super",
      keyType: "PRODUCTION",
      refresh: false,
    });
  });

  it("issues a password token and a refresh token to the key, owned by the user", async () => {
    const app = await createApp();
    const user = await createUser();
    const response = await postForm(
      "/token",
      { grant_type: "password", username: user.username, password: user.password },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    const body = (await response.json()) as TokenBody;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.expires_in).toBe(3600);
    await expectIssued(body, app.keys.PRODUCTION, {
      username: user.canonical,
      keyType: "PRODUCTION",
      refresh: true,
    });
  });
});

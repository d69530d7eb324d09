import { describe, expect, it } from "vitest";
import { basic, createApp, createUser, postForm } from "./helpers";

describe("smoke", () => {
  it("issues a client_credentials token", async () => {
    const app = await createApp();
    const response = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
  });
  it("issues a password token", async () => {
    const app = await createApp();
    const user = await createUser();
    const response = await postForm(
      "/token",
      { grant_type: "password", username: user.username, password: user.password },
      { Authorization: basic(app.keys.PRODUCTION) },
    );
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
  });
});

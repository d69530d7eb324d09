import { describe, expect, it } from "vitest";
import { createApp, createUser, introspect, passwordToken, postForm } from "../helpers";
import { authorizeCode, CALLBACK, pkcePair, redeem } from "./authorize-flow";

function publicRefresh(consumerKey: string, refreshToken: string) {
  return postForm("/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: consumerKey,
  });
}

describe("refresh by a public client (RFC 9700 §4.14.2: rotated refresh tokens)", () => {
  it("rotates a refresh token from a PKCE code redeemed without a secret, with client_id alone", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const keys = app.keys.PRODUCTION;
    const pkce = await pkcePair();
    const { code } = await authorizeCode(keys, user, {
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    const tokens = await redeem(
      keys,
      { code, redirect_uri: CALLBACK, code_verifier: pkce.verifier },
      "public",
    );
    expect(tokens.status).toBe(200);
    const first = await publicRefresh(keys.consumerKey, tokens.body.refresh_token as string);
    expect(first.status).toBe(200);
    const rotated = (await first.json()) as Record<string, string>;
    expect(rotated.refresh_token).not.toBe(tokens.body.refresh_token);
    // The family keeps its public marker through rotation.
    expect((await publicRefresh(keys.consumerKey, rotated.refresh_token as string)).status).toBe(200);
  });

  it("still requires the secret for tokens a confidential client obtained", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const keys = app.keys.PRODUCTION;
    const pair = await passwordToken(keys, user);
    const refused = await publicRefresh(keys.consumerKey, pair.refresh_token as string);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Record<string, string>).error).toBe("invalid_client");
    const pkce = await pkcePair();
    const { code } = await authorizeCode(keys, user, {
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    const confidential = await redeem(
      keys,
      { code, redirect_uri: CALLBACK, code_verifier: pkce.verifier },
      "basic",
    );
    expect((await publicRefresh(keys.consumerKey, confidential.body.refresh_token as string)).status).toBe(
      401,
    );
  });

  it("revokes its own refresh and access tokens with client_id alone (RFC 7009 §2.1)", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const user = await createUser();
    const keys = app.keys.PRODUCTION;
    const pkce = await pkcePair();
    const { code } = await authorizeCode(keys, user, {
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    const tokens = await redeem(
      keys,
      { code, redirect_uri: CALLBACK, code_verifier: pkce.verifier },
      "public",
    );
    const refreshToken = tokens.body.refresh_token as string;
    const accessToken = tokens.body.access_token as string;
    const revoked = await postForm("/revoke", {
      token: refreshToken,
      token_type_hint: "refresh_token",
      client_id: keys.consumerKey,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get("RevokedRefreshToken")).toBe(refreshToken);
    expect(revoked.headers.get("RevokedAccessToken")).toBe(accessToken);
    expect((await introspect(accessToken)).active).toBe(false);
    expect((await publicRefresh(keys.consumerKey, refreshToken)).status).toBe(400);

    // A second family: the access token alone revokes the pair too.
    const second = await authorizeCode(keys, user, {
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    const pair = await redeem(
      keys,
      { code: second.code, redirect_uri: CALLBACK, code_verifier: pkce.verifier },
      "public",
    );
    const byAccess = await postForm("/revoke", {
      token: pair.body.access_token as string,
      client_id: keys.consumerKey,
    });
    expect(byAccess.status).toBe(200);
    expect(byAccess.headers.get("RevokedRefreshToken")).toBe(pair.body.refresh_token);
  });

  it("still needs the secret to revoke what a confidential client obtained", async () => {
    const app = await createApp();
    const user = await createUser();
    const pair = await passwordToken(app.keys.PRODUCTION, user);
    const refused = await postForm("/revoke", {
      token: pair.refresh_token as string,
      client_id: app.keys.PRODUCTION.consumerKey,
    });
    expect(refused.status).toBe(401);
    expect((await introspect(pair.access_token)).active).toBe(true);
  });
});

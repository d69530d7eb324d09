import { shardStub } from "../../durable/names";
import { CODE_VERIFIER } from "../../durable/shard/codes";
import { OAuthError } from "../../errors/oauth-error";
import { requireParam } from "../../http/form";
import { authenticateClient, ownRoute } from "../../services/presented-client";
import { settle } from "../../services/shard-result";
import type { Grant } from "./grant";

/**
 * RFC 6749 §4.1.3: exchanges an authorization code for a user access token and refresh token. The code names
 * its shard (the user's); the checks (single use, expiry, redirect URI, PKCE per RFC 7636 §4.6) and the
 * minting happen there in one transaction (src/durable/shard/codes.ts). A confidential client authenticates
 * with its secret; a public client sends client_id alone and must have used PKCE.
 */
export const authorizationCodeGrant: Grant = {
  type: "authorization_code",
  async issue({ env, config, params, client, issuer }) {
    const code = requireParam(params, "code");
    const codeVerifier = params.get("code_verifier") ?? null;
    if (codeVerifier !== null && !CODE_VERIFIER.test(codeVerifier)) {
      throw new OAuthError(
        "invalid_request",
        "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)",
      );
    }
    const route = ownRoute(client, code);
    if (!route) {
      // Not this client's code. A client with a secret must still authenticate (RFC 6749 §3.2.1); one
      // without has nothing to check, and the other client's code is never touched.
      if (client.credentials.clientSecret !== null) await authenticateClient(env, config, client);
      throw new OAuthError("invalid_grant", "the authorization code is not valid for this client");
    }
    return settle(
      env,
      config,
      await shardStub(env, route).redeemAuthorizationCode({
        route,
        issuer,
        credentials: client.credentials,
        code,
        redirectUri: params.get("redirect_uri") ?? null,
        codeVerifier,
      }),
    );
  },
};

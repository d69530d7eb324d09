import { shardStub } from "../../durable/names";
import { OAuthError } from "../../errors/oauth-error";
import { requireParam } from "../../http/form";
import { authenticateClient, ownRoute } from "../../services/presented-client";
import { settle } from "../../services/shard-result";
import type { Grant } from "./grant";

/**
 * RFC 6749 §6: refresh. The token names its shard; rotation is serialized there. A token of another client
 * is refused with invalid_grant after the presenting client has authenticated, without touching its owner.
 */
export const refreshTokenGrant: Grant = {
  type: "refresh_token",
  async issue({ env, config, params, client, issuer }) {
    const refreshToken = requireParam(params, "refresh_token");
    const scope = params.get("scope") ?? null;
    const route = ownRoute(client, refreshToken);
    if (!route) {
      await authenticateClient(env, config, client);
      throw new OAuthError("invalid_grant", "the refresh token is not valid for this client");
    }
    const { credentials } = client;
    return settle(
      env,
      config,
      await shardStub(env, route).rotateRefreshToken({ route, issuer, credentials, refreshToken, scope }),
    );
  },
};

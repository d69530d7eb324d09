import { randomShard } from "../../core/shard-routing";
import { parseTokenRoute } from "../../core/token-format";
import { shardStub } from "../../durable/names";
import { OAuthError } from "../../errors/oauth-error";
import { requireParam } from "../../http/form";
import { settle } from "../../services/shard-result";
import type { Grant } from "./grant";

/**
 * RFC 6749 §6: refresh. The token names its shard; rotation is serialized there. A token of another client
 * is refused with invalid_grant after the presenting client has authenticated, without touching its owner.
 */
export const refreshTokenGrant: Grant = {
  type: "refresh_token",
  async issue({ env, params, credentials, routing, issuer }) {
    const refreshToken = requireParam(params, "refresh_token");
    const scope = params.get("scope") ?? null;
    const route = parseTokenRoute(refreshToken);
    if (!route || route.consumerKey !== credentials.clientId || route.shard >= routing.shards) {
      const own = { consumerKey: credentials.clientId, shard: randomShard(routing.shards) };
      await settle(env, await shardStub(env, own).authenticateClient(own, credentials));
      throw new OAuthError("invalid_grant", "the refresh token is not valid for this client");
    }
    return settle(
      env,
      await shardStub(env, route).rotateRefreshToken({ route, issuer, credentials, refreshToken, scope }),
    );
  },
};

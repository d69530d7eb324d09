import { randomShard } from "../../core/shard-routing";
import { shardStub } from "../../durable/names";
import { settle } from "../../services/shard-result";
import type { Grant } from "./grant";

/** RFC 6749 §4.4: an application access token, no refresh token (§4.4.3), on a random shard of the key. */
export const clientCredentialsGrant: Grant = {
  type: "client_credentials",
  async issue({ env, config, params, client, issuer }) {
    const { credentials, routing } = client;
    const route = { consumerKey: credentials.clientId, shard: randomShard(routing.shards) };
    return settle(
      env,
      config,
      await shardStub(env, route).issueToken({
        route,
        issuer,
        credentials,
        grantType: "client_credentials",
        scope: params.get("scope") ?? null,
        user: null,
        withRefresh: false,
      }),
    );
  },
};

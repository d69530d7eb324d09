import { shardStub } from "../../durable/names";
import { canonicalUserName } from "../../identity";
import { userShard } from "../client-directory";
import { requireParam } from "../form";
import { settle } from "../shard-result";
import type { Grant } from "./grant";

/**
 * RFC 6749 §4.3: resource owner password credentials. The user's tokens live on the shard their name hashes
 * to, so one client's users spread evenly over its shards and a user's refresh family stays on one.
 */
export const passwordGrant: Grant = {
  type: "password",
  async issue({ env, params, credentials, routing }) {
    const username = requireParam(params, "username");
    const password = requireParam(params, "password");
    const shardKey = canonicalUserName(username) ?? username;
    const route = { consumerKey: credentials.clientId, shard: userShard(shardKey, routing.shards) };
    return settle(
      env,
      await shardStub(env, route).issueForPassword({
        route,
        credentials,
        username,
        password,
        scope: params.get("scope") ?? null,
      }),
    );
  },
};

import { canonicalUserName } from "../../core/identity";
import { grantScope } from "../../core/scope";
import { userShard } from "../../core/shard-routing";
import { shardStub } from "../../durable/names";
import { requireParam } from "../../http/form";
import { settle } from "../../services/shard-result";
import { verifyUser } from "../user-authentication";
import type { Grant } from "./grant";

/**
 * RFC 6749 §4.3: resource owner password credentials. The user's tokens live on the shard their name hashes
 * to, so one client's users spread evenly over its shards and a user's refresh family stays on one.
 *
 * The client is authenticated at that shard first (a wrong client secret never reaches the user's lockout);
 * the password (PBKDF2, ~11 ms of CPU) is then checked here in the stateless Worker, which scales out, rather
 * than inside the single-threaded shard, which would stall every other request of its users meanwhile.
 */
export const passwordGrant: Grant = {
  type: "password",
  async issue({ env, params, credentials, routing, issuer }) {
    const username = requireParam(params, "username");
    const password = requireParam(params, "password");
    const scope = params.get("scope") ?? null;
    const route = {
      consumerKey: credentials.clientId,
      shard: userShard(canonicalUserName(username) ?? username, routing.shards),
    };
    const shard = shardStub(env, route);
    await settle(env, await shard.authenticateClient(route, credentials));
    grantScope(scope, routing.keyType);
    const user = await verifyUser(env, username, password);
    return settle(
      env,
      await shard.issueToken({
        route,
        issuer,
        credentials,
        grantType: "password",
        scope,
        user,
        withRefresh: true,
      }),
    );
  },
};

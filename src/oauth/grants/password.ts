import { canonicalUserName } from "../../core/identity";
import { grantScope } from "../../core/scope";
import { userShard } from "../../core/shard-routing";
import { shardStub } from "../../durable/names";
import { requireParam } from "../../http/form";
import { settle } from "../../services/shard-result";
import { checkUser, recordLogin, userAuthenticationError } from "../user-authentication";
import type { Grant } from "./grant";

/**
 * RFC 6749 §4.3: resource owner password credentials. The user's tokens live on the shard their name hashes
 * to, so one client's users spread evenly over its shards and a user's refresh family stays on one.
 *
 * Two round trips when the password is right: the user's record from the registry (the password is verified
 * here, in the Worker), then the user's shard, which authenticates the client and mints in one call. When it
 * is wrong, the client is authenticated before anything is said about the user or counted against the user's
 * lockout, so a client without its secret learns nothing and cannot lock anyone out.
 */
export const passwordGrant: Grant = {
  type: "password",
  async issue({ env, config, params, client, issuer }) {
    const username = requireParam(params, "username");
    const password = requireParam(params, "password");
    const scope = params.get("scope") ?? null;
    const { credentials, routing } = client;
    const route = {
      consumerKey: credentials.clientId,
      shard: userShard(canonicalUserName(username) ?? username, routing.shards),
    };
    const shard = shardStub(env, route);
    const user = await checkUser(env, username, password);
    if (!user.ok) {
      await settle(env, config, await shard.authenticateClient(route, credentials));
      grantScope(scope, routing.keyType);
      await recordLogin(env, user);
      throw userAuthenticationError(user);
    }
    const body = await settle(
      env,
      config,
      await shard.issueToken({
        route,
        issuer,
        credentials,
        grantType: "password",
        scope,
        user: user.username,
        userEpoch: user.epoch,
        withRefresh: true,
      }),
    );
    await recordLogin(env, user);
    return body;
  },
};

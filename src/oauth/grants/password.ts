import { canonicalUserName } from "../../core/identity";
import { UNKNOWN_SOURCE } from "../../core/request-source";
import { grantScope } from "../../core/scope";
import { userShard } from "../../core/shard-routing";
import { shardStub } from "../../durable/names";
import type { TokenResponseBody } from "../../durable/shard/protocol";
import { requireParam } from "../../http/form";
import { settle } from "../../services/shard-result";
import { checkUser, recordLogin, userAuthenticationError } from "../../services/user-authentication";
import type { Grant } from "./grant";

/**
 * RFC 6749 §4.3: resource owner password credentials. The user's tokens live on the shard their name hashes
 * to, so one client's users spread evenly over its shards and a user's refresh family stays on one.
 *
 * Round trips when the password is right: the registry admits the attempt and hands over the user's record
 * (the password is verified here, in the Worker), the user's shard authenticates the client and mints in one
 * call, and the registry hears the outcome. When it is wrong, the client is authenticated before anything is
 * said about the user, so a client without its secret learns nothing; an attempt whose client fails is not
 * counted against the user (README "Lock-out and throttling").
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
    const user = await checkUser(env, username, password, credentials.source ?? UNKNOWN_SOURCE);
    if (!user.ok) {
      try {
        await settle(env, config, await shard.authenticateClient(route, credentials));
        grantScope(scope, routing.keyType);
      } catch (error) {
        await recordLogin(env, user, "abandoned");
        throw error;
      }
      await recordLogin(env, user);
      throw userAuthenticationError();
    }
    let body: TokenResponseBody;
    try {
      body = await settle(
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
    } catch (error) {
      await recordLogin(env, user, "abandoned");
      throw error;
    }
    await recordLogin(env, user);
    return body;
  },
};

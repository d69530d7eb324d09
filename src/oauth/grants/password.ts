import { canonicalUserName } from "../../core/identity";
import { UNKNOWN_SOURCE } from "../../core/request-source";
import { grantScope } from "../../core/scope";
import { userTokenRoute } from "../../core/shard-routing";
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
 * Round trips (README "Users: the user store"), the client's routing being known to the isolate or in KV:
 * - right password: three Durable Object calls, one after the other: the user's store admits the attempt and
 *   hands over the hash (verified here, in the Worker), the user's token shard authenticates the client and
 *   mints in one call (the client is authenticated once), and the user's store hears the outcome;
 * - wrong password: the same three, the middle one authenticating the client only, before anything is said
 *   about the user, so a client without its secret learns nothing; an attempt whose client fails is not
 *   counted against the user (README "Lock-out and throttling").
 * The attempt must be counted before the password is evaluated and cleared after: two calls to the user's
 * store is the least exact per-source throttling allows; the mint is the third.
 */
export const passwordGrant: Grant = {
  type: "password",
  async issue({ env, config, params, client, issuer }) {
    const username = requireParam(params, "username");
    const password = requireParam(params, "password");
    const scope = params.get("scope") ?? null;
    const { credentials, routing } = client;
    const canonical = canonicalUserName(username) ?? username;
    const route = userTokenRoute(credentials.clientId, canonical, routing.shards, config.partitions);
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

import { readConfig } from "../../core/config";
import { randomShard, userTokenRoute } from "../../core/shard-routing";
import { isConsumerKey, type TokenRoute } from "../../core/token-format";
import { shardStub } from "../../durable/names";
import type { ClientRouting } from "../../durable/registry";
import type { AuthorizationClient } from "../../durable/shard/protocol";
import { lookupClient } from "../../services/client-directory";

export interface KnownClient {
  client: AuthorizationClient;
  routing: ClientRouting;
}

/** The client named by `client_id`, as the authorization endpoint needs it; null when there is no such key. */
export async function findAuthorizationClient(env: Env, clientId: string): Promise<KnownClient | null> {
  if (!isConsumerKey(clientId)) return null;
  const routing = await lookupClient(env, clientId);
  if (!routing) return null;
  const route = { consumerKey: clientId, shard: randomShard(routing.shards) };
  const client = await shardStub(env, route).describeClient(route);
  return client ? { client, routing } : null;
}

/**
 * A user's tokens and codes live on the shard the user's name hashes to (among its partition's shards when the
 * user's domain is partitioned), as for the password grant.
 */
export function userRoute(
  env: Env,
  consumerKey: string,
  canonicalUser: string,
  routing: ClientRouting,
): TokenRoute {
  return userTokenRoute(consumerKey, canonicalUser, routing.shards, readConfig(env).partitions);
}

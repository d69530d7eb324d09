import type { ClientCredentials } from "../core/client-credentials";
import type { Config } from "../core/config";
import { randomShard } from "../core/shard-routing";
import { parseTokenRoute, type TokenRoute } from "../core/token-format";
import { shardStub } from "../durable/names";
import type { ClientRouting } from "../durable/registry";
import { settle } from "./shard-result";

/**
 * A client as a request presents it (RFC 6749 §2.3): its credentials, not yet checked, and the shards of its
 * key. The secret is checked by one of those shards in the same call that does the request's work, so a
 * request costs one round trip, not two.
 */
export interface PresentedClient {
  credentials: ClientCredentials;
  routing: ClientRouting;
}

/**
 * The route of a token or code when it is this client's: it names the client's key and one of its shards.
 * Null for another client's token, or one that is not ours at all: the request must not touch its owner.
 */
export function ownRoute(client: PresentedClient, token: string): TokenRoute | null {
  const route = parseTokenRoute(token);
  if (!route || route.consumerKey !== client.credentials.clientId) return null;
  return route.shard < client.routing.shards ? route : null;
}

/**
 * Authenticates the client on one of its own shards, for a request whose token is another client's (which is
 * then answered as unknown: RFC 6749 §5.2 invalid_grant, RFC 7009 §2.1) or whose work is done elsewhere
 * (/introspect). Throws invalid_client; returns the client's tenant.
 */
export async function authenticateClient(
  env: Env,
  config: Config,
  client: PresentedClient,
): Promise<{ tenant: string }> {
  const route = { consumerKey: client.credentials.clientId, shard: randomShard(client.routing.shards) };
  return settle(env, config, await shardStub(env, route).authenticateClient(route, client.credentials));
}

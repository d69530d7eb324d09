import type { Context } from "hono";
import { jsonResponse, NO_STORE } from "../core/responses";
import { parseTokenRoute } from "../core/token-format";
import { shardStub } from "../durable/names";
import type { Introspection } from "../durable/shard/protocol";
import type { ClientOrOperatorEnv } from "../http/client-authentication";
import { requireParam } from "../http/form";
import { lookupClient } from "../services/client-directory";
import { authenticateClient } from "../services/presented-client";

/**
 * `POST /introspect` (RFC 7662). The caller is a registered client (Basic or body credentials), which sees
 * only tokens of applications in its own tenant, or the operator with `Authorization: Bearer <ADMIN_TOKEN>`.
 * The token may be any client's, so the caller authenticates on its own shard, then the token's shard answers.
 */
export async function introspectEndpoint(c: Context<ClientOrOperatorEnv>): Promise<Response> {
  const { form, client, config } = c.var;
  const callerTenant = client ? (await authenticateClient(c.env, config, client)).tenant : null;
  const token = requireParam(form, "token");
  return jsonResponse(await introspect(c.env, token, callerTenant), 200, NO_STORE);
}

async function introspect(env: Env, token: string, callerTenant: string | null): Promise<Introspection> {
  const route = parseTokenRoute(token);
  if (!route) return { active: false };
  const routing = await lookupClient(env, route.consumerKey);
  if (!routing || route.shard >= routing.shards) return { active: false };
  return shardStub(env, route).introspectToken(token, callerTenant);
}

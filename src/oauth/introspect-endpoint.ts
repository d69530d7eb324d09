import type { Context } from "hono";
import { jsonResponse, NO_STORE } from "../core/responses";
import { randomShard } from "../core/shard-routing";
import { parseTokenRoute } from "../core/token-format";
import { shardStub } from "../durable/names";
import type { Introspection } from "../durable/shard/protocol";
import type { Env } from "../env";
import { invalidClient, OAuthError } from "../errors/oauth-error";
import { adminTokenMatches } from "../http/admin-auth";
import { readClientCredentials } from "../http/client-credentials";
import { readForm, requireParam } from "../http/form";
import { lookupClient } from "../services/client-directory";
import { settle } from "../services/shard-result";

/**
 * `POST /introspect` (RFC 7662). The caller is a registered client (Basic or body credentials), which sees
 * only tokens of applications in its own tenant, or the operator with `Authorization: Bearer <ADMIN_TOKEN>`.
 */
export async function introspectEndpoint(c: Context<{ Bindings: Env }>): Promise<Response> {
  const params = await readForm(c.req.raw);
  const callerTenant = await authenticateCaller(c.env, c.req.raw.headers, params);
  const token = requireParam(params, "token");
  return jsonResponse(await introspect(c.env, token, callerTenant), 200, NO_STORE);
}

async function authenticateCaller(
  env: Env,
  headers: Headers,
  params: Map<string, string>,
): Promise<string | null> {
  const authorization = headers.get("authorization") ?? "";
  if (/^bearer\s/i.test(authorization)) {
    if (adminTokenMatches(env, authorization)) return null;
    throw new OAuthError("invalid_client", "the bearer credential is not accepted here", {
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
    });
  }
  const credentials = readClientCredentials(headers, params);
  const routing = await lookupClient(env, credentials.clientId);
  if (!routing) throw invalidClient("unknown client");
  const route = { consumerKey: credentials.clientId, shard: randomShard(routing.shards) };
  const caller = await settle(env, await shardStub(env, route).authenticateClient(route, credentials));
  return caller.tenant;
}

async function introspect(env: Env, token: string, callerTenant: string | null): Promise<Introspection> {
  const route = parseTokenRoute(token);
  if (!route) return { active: false };
  const routing = await lookupClient(env, route.consumerKey);
  if (!routing || route.shard >= routing.shards) return { active: false };
  return shardStub(env, route).introspectToken(token, callerTenant);
}

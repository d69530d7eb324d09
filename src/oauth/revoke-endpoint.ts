import type { Context } from "hono";
import { NO_STORE } from "../core/responses";
import { randomShard } from "../core/shard-routing";
import { parseTokenRoute } from "../core/token-format";
import { shardStub } from "../durable/names";
import type { RevocationOutcome } from "../durable/shard/protocol";
import type { Env } from "../env";
import { invalidClient } from "../errors/oauth-error";
import { readClientCredentials } from "../http/client-credentials";
import { readForm, requireParam } from "../http/form";
import { lookupClient } from "../services/client-directory";
import { settle } from "../services/shard-result";

/**
 * `POST /revoke` (RFC 7009) as WSO2 API Manager answers it: 200 with an empty body, and the headers
 * `RevokedAccessToken`, `RevokedRefreshToken` and `AuthorizedUser` when something was revoked. An unknown,
 * expired, already revoked or foreign token gets a bare 200 (RFC 7009 §2.2). `token_type_hint` is accepted;
 * tokens are found by hash whatever the hint says (§2.1).
 */
export async function revokeEndpoint(c: Context<{ Bindings: Env }>): Promise<Response> {
  const params = await readForm(c.req.raw);
  const token = requireParam(params, "token");
  const hintParam = params.get("token_type_hint");
  const hint = hintParam === "access_token" || hintParam === "refresh_token" ? hintParam : null;
  const credentials = readClientCredentials(c.req.raw.headers, params);
  const routing = await lookupClient(c.env, credentials.clientId);
  if (!routing) throw invalidClient("unknown client");

  const route = parseTokenRoute(token);
  let outcome: RevocationOutcome = {};
  if (route && route.consumerKey === credentials.clientId && route.shard < routing.shards) {
    outcome = await settle(
      c.env,
      await shardStub(c.env, route).revokeToken({ route, credentials, token, hint }),
    );
  } else {
    // Not this client's token: still authenticate the client (RFC 7009 §2.1), then change nothing.
    const own = { consumerKey: credentials.clientId, shard: randomShard(routing.shards) };
    await settle(c.env, await shardStub(c.env, own).authenticateClient(own, credentials));
  }
  const headers = new Headers(NO_STORE);
  if (outcome.revokedAccessToken) headers.set("RevokedAccessToken", outcome.revokedAccessToken);
  if (outcome.revokedRefreshToken) headers.set("RevokedRefreshToken", outcome.revokedRefreshToken);
  if (outcome.authorizedUser && (outcome.revokedAccessToken || outcome.revokedRefreshToken)) {
    headers.set("AuthorizedUser", outcome.authorizedUser);
  }
  return new Response(null, { status: 200, headers });
}

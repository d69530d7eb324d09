import type { Context } from "hono";
import { NO_STORE } from "../core/responses";
import { shardStub } from "../durable/names";
import type { RevocationOutcome } from "../durable/shard/protocol";
import type { ClientEnv } from "../http/client-authentication";
import { requireParam } from "../http/form";
import { authenticateClient, ownRoute } from "../services/presented-client";
import { settle } from "../services/shard-result";

/**
 * `POST /revoke` (RFC 7009) as WSO2 API Manager answers it: 200 with an empty body, and the headers
 * `RevokedAccessToken`, `RevokedRefreshToken` and `AuthorizedUser` when something was revoked. An unknown,
 * expired, already revoked or foreign token gets a bare 200 (RFC 7009 §2.2). `token_type_hint` is accepted;
 * tokens are found by hash whatever the hint says (§2.1).
 */
export async function revokeEndpoint(c: Context<ClientEnv>): Promise<Response> {
  const { form, client, config } = c.var;
  const token = requireParam(form, "token");
  const hintParam = form.get("token_type_hint");
  const hint = hintParam === "access_token" || hintParam === "refresh_token" ? hintParam : null;

  const route = ownRoute(client, token);
  let outcome: RevocationOutcome = {};
  if (route) {
    const { credentials } = client;
    const revocation = shardStub(c.env, route).revokeToken({ route, credentials, token, hint });
    outcome = await settle(c.env, config, await revocation, "fail");
  } else {
    // Not this client's token: still authenticate the client (RFC 7009 §2.1), then change nothing.
    await authenticateClient(c.env, config, client);
  }
  const headers = new Headers(NO_STORE);
  if (outcome.revokedAccessToken) headers.set("RevokedAccessToken", outcome.revokedAccessToken);
  if (outcome.revokedRefreshToken) headers.set("RevokedRefreshToken", outcome.revokedRefreshToken);
  if (outcome.authorizedUser && (outcome.revokedAccessToken || outcome.revokedRefreshToken)) {
    headers.set("AuthorizedUser", outcome.authorizedUser);
  }
  return new Response(null, { status: 200, headers });
}

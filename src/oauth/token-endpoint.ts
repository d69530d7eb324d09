import type { Context } from "hono";
import { issuerOf } from "../core/issuer";
import { jsonResponse, NO_STORE } from "../core/responses";
import { OAuthError } from "../errors/oauth-error";
import type { ClientEnv } from "../http/client-authentication";
import { findGrant } from "./grants";
import { ENDPOINT_PATHS } from "./metadata";

/**
 * `POST /token` (RFC 6749 §3.2), behind the client-authentication middleware: dispatches to the grant
 * registry; §5.1 / §5.2 responses.
 */
export async function tokenEndpoint(c: Context<ClientEnv>): Promise<Response> {
  const { form, client, config } = c.var;
  const grantType = form.get("grant_type");
  if (grantType === undefined) throw new OAuthError("invalid_request", "missing parameter grant_type");
  const grant = findGrant(grantType);
  if (!grant) throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  const issuer = issuerOf(config, c.req.raw);
  const body = await grant.issue({
    env: c.env,
    config,
    params: form,
    client,
    issuer,
    tokenEndpoint: `${issuer}${ENDPOINT_PATHS.token}`,
  });
  return jsonResponse(body, 200, NO_STORE);
}

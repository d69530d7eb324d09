import type { Context } from "hono";
import { readConfig } from "../core/config";
import { jsonResponse, NO_STORE } from "../core/responses";
import type { Env } from "../env";
import { invalidClient, OAuthError } from "../errors/oauth-error";
import { readClientCredentials } from "../http/client-credentials";
import { readForm } from "../http/form";
import { lookupClient } from "../services/client-directory";
import { findGrant } from "./grants";
import { issuerOf } from "./metadata";

/** `POST /token` (RFC 6749 §3.2): dispatches to the grant registry; §5.1 / §5.2 responses. */
export async function tokenEndpoint(c: Context<{ Bindings: Env }>): Promise<Response> {
  const params = await readForm(c.req.raw);
  const grantType = params.get("grant_type");
  if (grantType === undefined) throw new OAuthError("invalid_request", "missing parameter grant_type");
  const grant = findGrant(grantType);
  if (!grant) throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  const credentials = readClientCredentials(c.req.raw.headers, params);
  const routing = await lookupClient(c.env, credentials.clientId);
  if (!routing) throw invalidClient("unknown client");
  const body = await grant.issue({
    env: c.env,
    config: readConfig(c.env),
    params,
    credentials,
    routing,
    request: c.req.raw,
    issuer: issuerOf(c.req.raw),
  });
  return jsonResponse(body, 200, NO_STORE);
}

import type { Context } from "hono";
import { readConfig } from "../config";
import type { Env } from "../env";
import { OAuthError } from "../errors";
import { jsonResponse, NO_STORE } from "../http/responses";
import { invalidClient, readClientCredentials } from "./client-credentials";
import { lookupClient } from "./client-directory";
import { readForm } from "./form";
import { findGrant } from "./grants";

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
  });
  return jsonResponse(body, 200, NO_STORE);
}

import { createMiddleware } from "hono/factory";
import type { Config } from "../core/config";
import { invalidClient, OAuthError } from "../errors/oauth-error";
import { lookupClient } from "../services/client-directory";
import type { PresentedClient } from "../services/presented-client";
import { adminTokenMatches } from "./admin-auth";
import { readClientCredentials } from "./client-credentials";
import { type FormParams, readForm } from "./form";

/** `c.var` of an endpoint a client calls with a form: the parameters and the client (null: the operator). */
export interface ClientEnv {
  Bindings: Env;
  Variables: { config: Config; form: FormParams; client: PresentedClient };
}

export interface ClientOrOperatorEnv {
  Bindings: Env;
  Variables: { config: Config; form: FormParams; client: PresentedClient | null };
}

/**
 * The one client-authentication path of /token, /revoke and /introspect: reads the form (RFC 6749 §3.2),
 * the client's credentials (§2.3.1: HTTP Basic or the body, never both) and the shards of its key, and puts
 * them on `c.var.form` and `c.var.client`. An unknown client is invalid_client here; the secret itself is
 * checked by the client's shard in the call that does the request's work (src/durable/shard/authentication.ts).
 */
export const presentedClient = createMiddleware<ClientEnv>(async (c, next) => {
  const form = await readForm(c.req.raw);
  c.set("form", form);
  c.set("client", await identify(c.env, c.req.raw.headers, form));
  await next();
});

/**
 * As {@link presentedClient}, but the operator may call instead, with `Authorization: Bearer <ADMIN_TOKEN>`
 * (then `c.var.client` is null). Any other bearer credential is refused.
 */
export const presentedClientOrOperator = createMiddleware<ClientOrOperatorEnv>(async (c, next) => {
  const form = await readForm(c.req.raw);
  c.set("form", form);
  const authorization = c.req.header("authorization") ?? "";
  if (/^bearer\s/i.test(authorization)) {
    if (!adminTokenMatches(c.env, authorization)) {
      throw new OAuthError("invalid_client", "the bearer credential is not accepted here", {
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
      });
    }
    c.set("client", null);
  } else {
    c.set("client", await identify(c.env, c.req.raw.headers, form));
  }
  await next();
});

async function identify(env: Env, headers: Headers, form: FormParams): Promise<PresentedClient> {
  const credentials = readClientCredentials(headers, form);
  const routing = await lookupClient(env, credentials.clientId);
  if (!routing) throw invalidClient("unknown client");
  return { credentials, routing };
}

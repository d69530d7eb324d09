import type { z } from "@hono/zod-openapi";
import { canonicalUserName } from "../core/identity";
import { issuerOf } from "../core/issuer";
import { NO_STORE } from "../core/responses";
import { registryStub } from "../durable/names";
import { AdminError } from "../errors/admin-error";
import { OAuthError } from "../errors/oauth-error";
import { newApplication, regenerateApplicationToken } from "../services/applications";
import { adminRouter } from "./admin-app";
import { unwrap } from "./registry-result";
import {
  type ApplicationChanges,
  applicationUsage,
  createApplication,
  deleteApplication,
  getApplication,
  listApplications,
  regenerateSecret,
  regenerateToken,
  updateApplication,
} from "./schemas/applications";
import { usageOf } from "./usage";

type Settings = z.output<typeof ApplicationChanges>;

/** `accessTokenValidity` (null: back to the default), else WSO2's `validityPeriod`; undefined: not given. */
function validity(body: Settings): number | null | undefined {
  if (body.accessTokenValidity === null) return null;
  return body.accessTokenValidity ?? body.validityPeriod ?? undefined;
}

function callbackUrls(body: Settings): string[] | undefined {
  return body.callbackUrls ?? (body.callbackUrl != null ? [body.callbackUrl] : undefined);
}

/** The settings given in a body, undefined for those not given. */
function settingsOf(body: Settings) {
  return {
    accessTokenValidity: validity(body),
    accessTokenFormat: body.accessTokenFormat ?? undefined,
    allowedDomains: body.allowedDomains ?? undefined,
    callbackUrls: callbackUrls(body),
    implicitEnabled: body.implicitEnabled ?? undefined,
    tier: body.tier ?? undefined,
  };
}

/** `/admin/applications`: applications, their PRODUCTION and SANDBOX keys, secret and token regeneration. */
export const applicationRoutes = adminRouter()
  .openapi(createApplication, async (c) => {
    const body = c.req.valid("json");
    const owner = canonicalUserName(body.owner);
    if (!owner)
      throw new AdminError(
        400,
        "invalid_request",
        "owner must be a user name such as alice or alice@carbon.super",
      );
    const settings = settingsOf(body);
    const created = unwrap(
      await registryStub(c.env).createApplication(
        newApplication({ name: body.name, owner, shards: body.shards ?? undefined, ...settings }),
      ),
    );
    return c.json(created, 201, { ...NO_STORE, Location: `/admin/applications/${created.id}` });
  })
  .openapi(listApplications, async (c) => {
    const ownerParam = c.req.valid("query").owner;
    const owner = ownerParam ? canonicalUserName(ownerParam) : null;
    return c.json(await registryStub(c.env).listApplications(owner), 200);
  })
  .openapi(getApplication, async (c) =>
    c.json(unwrap(await registryStub(c.env).getApplication(c.req.valid("param").id)), 200),
  )
  .openapi(applicationUsage, async (c) => c.json(await usageOf(c.env, c.req.valid("param").id), 200))
  .openapi(updateApplication("put"), async (c) =>
    c.json(await update(c.env, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(updateApplication("patch"), async (c) =>
    c.json(await update(c.env, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(deleteApplication, async (c) => {
    unwrap(await registryStub(c.env).deleteApplication(c.req.valid("param").id));
    return c.body(null, 204);
  })
  .openapi(regenerateSecret, async (c) => {
    const { id, keyType } = c.req.valid("param");
    return c.json(unwrap(await registryStub(c.env).regenerateSecret(id, keyType)), 200, NO_STORE);
  })
  .openapi(regenerateToken, async (c) => {
    // WSO2 Store's "Re-generate": revoke the key's application tokens, then issue a new one.
    const { id, keyType } = c.req.valid("param");
    const scope = c.req.valid("json").scope ?? null;
    const regenerated = await regenerateApplicationToken(c.env, c.var.config, {
      applicationId: id,
      keyType,
      scope,
      issuer: issuerOf(c.var.config, c.req.raw),
    }).catch((error: unknown) => {
      if (error instanceof OAuthError) throw new AdminError(400, error.code, error.message);
      throw error;
    });
    if (!regenerated.found) throw new AdminError(404, "not_found", `no ${keyType} key for application ${id}`);
    const { token } = regenerated;
    return c.json(token, 200, NO_STORE);
  });

async function update(env: Env, id: string, body: Settings) {
  if (body.owner !== undefined || body.shards !== undefined) {
    // A REST client may send back what GET gave it: the owner and shard count as they are pass, others do not.
    const current = unwrap(await registryStub(env).getApplication(id));
    const sameOwner =
      body.owner === undefined ||
      (typeof body.owner === "string" && canonicalUserName(body.owner) === current.owner);
    const sameShards = body.shards === undefined || body.shards === current.shards;
    if (!sameOwner || !sameShards)
      throw new AdminError(400, "invalid_request", "owner and shards cannot be changed");
  }
  const changes = { name: body.name ?? undefined, ...settingsOf(body) };
  const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
  return unwrap(await registryStub(env).updateApplication(id, defined));
}

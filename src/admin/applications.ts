import { Hono } from "hono";
import type { AccessTokenFormat, KeyType } from "../core/client-record";
import { canonicalUserName } from "../core/identity";
import { NO_STORE } from "../core/responses";
import { randomShard } from "../core/shard-routing";
import { UNLIMITED } from "../core/tiers";
import { MAX_SHARDS } from "../core/token-format";
import { registryStub, shardStub } from "../durable/names";
import { DEFAULT_SHARDS } from "../durable/registry/applications";
import { AdminError, unwrap } from "../errors/admin-error";
import { OAuthError } from "../errors/oauth-error";
import type { AppEnv } from "../http/app-env";
import { issuerOf } from "../oauth/metadata";
import { settle } from "../services/shard-result";
import {
  callbackUrl,
  type JsonObject,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringList,
  readJson,
  requiredString,
} from "./input";
import { optionalTierName } from "./tier-input";

const MAX_VALIDITY = 10 * 365 * 24 * 3600;

function keyTypeOf(raw: string): KeyType {
  const upper = raw.toUpperCase();
  if (upper !== "PRODUCTION" && upper !== "SANDBOX")
    throw new AdminError(404, "not_found", "key type is PRODUCTION or SANDBOX");
  return upper;
}

/** `accessTokenValidity` (seconds; negative = never expires), also accepted as WSO2's `validityPeriod`. */
function validity(body: JsonObject): number | null | undefined {
  if (body.accessTokenValidity === null) return null;
  const name = body.accessTokenValidity !== undefined ? "accessTokenValidity" : "validityPeriod";
  return optionalInteger(body, name, -MAX_VALIDITY, MAX_VALIDITY);
}

/** `accessTokenFormat`: `"opaque"` (default) or `"JWT"` (RFC 9068), any letter case. */
function accessTokenFormat(body: JsonObject): AccessTokenFormat | undefined {
  const value = optionalString(body, "accessTokenFormat", 10);
  if (value === undefined) return undefined;
  if (value.toLowerCase() === "jwt") return "JWT";
  if (value.toLowerCase() === "opaque") return "opaque";
  throw new AdminError(400, "invalid_request", 'accessTokenFormat must be "opaque" or "JWT"');
}

/** Allowed domains; empty, or WSO2's "All", means every domain. */
function allowedDomains(body: JsonObject): string[] | undefined {
  const list = optionalStringList(body, "allowedDomains");
  if (!list) return undefined;
  return list.some((domain) => domain.toLowerCase() === "all")
    ? []
    : list.map((domain) => domain.toLowerCase());
}

function callbackUrls(body: JsonObject): string[] | undefined {
  const many = optionalStringList(body, "callbackUrls");
  const one = optionalString(body, "callbackUrl", 2000);
  const list = many ?? (one !== undefined ? [one] : undefined);
  return list?.map((url, i) => callbackUrl(url, `callbackUrls[${i}]`));
}

/** `/admin/applications`: applications, their PRODUCTION and SANDBOX keys, secret and token regeneration. */
export const applicationRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJson(c.req.raw);
    const owner = canonicalUserName(requiredString(body, "owner", 150));
    if (!owner)
      throw new AdminError(
        400,
        "invalid_request",
        "owner must be a user name such as alice or alice@carbon.super",
      );
    const created = unwrap(
      await registryStub(c.env).createApplication({
        name: requiredString(body, "name", 100),
        owner,
        accessTokenValidity: validity(body) ?? null,
        accessTokenFormat: accessTokenFormat(body) ?? "opaque",
        allowedDomains: allowedDomains(body) ?? [],
        callbackUrls: callbackUrls(body) ?? [],
        implicitEnabled: optionalBoolean(body, "implicitEnabled") ?? true,
        shards: optionalInteger(body, "shards", 1, MAX_SHARDS) ?? DEFAULT_SHARDS,
        tier: optionalTierName(body) ?? UNLIMITED,
      }),
    );
    return c.json(created, 201, { ...NO_STORE, Location: `/admin/applications/${created.id}` });
  })
  .get("/", async (c) => {
    const ownerParam = c.req.query("owner");
    const owner = ownerParam ? canonicalUserName(ownerParam) : null;
    return c.json(await registryStub(c.env).listApplications(owner));
  })
  .get("/:id", async (c) => c.json(unwrap(await registryStub(c.env).getApplication(c.req.param("id")))))
  .on(["PUT", "PATCH"], "/:id", async (c) => {
    const body = await readJson(c.req.raw);
    if (body.owner !== undefined || body.shards !== undefined) {
      throw new AdminError(400, "invalid_request", "owner and shards cannot be changed");
    }
    const changes = {
      name: optionalString(body, "name", 100),
      accessTokenValidity: validity(body),
      accessTokenFormat: accessTokenFormat(body),
      allowedDomains: allowedDomains(body),
      callbackUrls: callbackUrls(body),
      implicitEnabled: optionalBoolean(body, "implicitEnabled"),
      tier: optionalTierName(body),
    };
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    return c.json(unwrap(await registryStub(c.env).updateApplication(c.req.param("id"), defined)));
  })
  .delete("/:id", async (c) => {
    unwrap(await registryStub(c.env).deleteApplication(c.req.param("id")));
    return c.body(null, 204);
  })
  .post("/:id/keys/:keyType/regenerate-secret", async (c) => {
    const keyType = keyTypeOf(c.req.param("keyType"));
    return c.json(
      unwrap(await registryStub(c.env).regenerateSecret(c.req.param("id"), keyType)),
      200,
      NO_STORE,
    );
  })
  .post("/:id/keys/:keyType/regenerate-token", async (c) => {
    // WSO2 Store's "Re-generate": revoke the key's application tokens, then issue a new one.
    const keyType = keyTypeOf(c.req.param("keyType"));
    const hasBody = (c.req.header("content-length") ?? "0") !== "0" || c.req.header("content-type");
    const body = hasBody ? await readJson(c.req.raw) : {};
    const scope = optionalString(body, "scope", 1000) ?? null;
    const registry = registryStub(c.env);
    const { consumerKey } = unwrap(await registry.revokeApplicationTokens(c.req.param("id"), keyType));
    const app = unwrap(await registry.getApplication(c.req.param("id")));
    const route = { consumerKey, shard: randomShard(app.shards) };
    const token = await settle(
      c.env,
      c.var.config,
      await shardStub(c.env, route).issueToken({
        route,
        issuer: issuerOf(c.req.raw),
        credentials: { clientId: consumerKey, clientSecret: null, method: "none" },
        grantType: "client_credentials",
        scope,
        user: null,
        withRefresh: false,
        allowPublic: true,
      }),
    ).catch((error: unknown) => {
      if (error instanceof OAuthError) throw new AdminError(400, error.code, error.message);
      throw error;
    });
    return c.json(token, 200, NO_STORE);
  });

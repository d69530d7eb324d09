import { Hono } from "hono";
import { type OriginList, parseOriginList } from "../core/cors-config";
import { isReservedContext } from "../core/reserved-paths";
import { UNLIMITED } from "../core/tiers";
import { registryStub } from "../durable/names";
import type { ApiInput } from "../durable/registry/apis";
import { AdminError, unwrap } from "../errors/admin-error";
import type { AppEnv } from "../http/app-env";
import { httpUrl, type JsonObject, optionalString, readJson, requiredString } from "./input";
import { optionalTierName } from "./tier-input";

const CONTEXT = /^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
const VERSION = /^[A-Za-z0-9._-]+$/;

/**
 * `twitter`, `/twitter` and `/twitter/` are the same context: `/twitter`. A context under one of the service's
 * own paths (`/token`, `/admin`, ...) is refused: the gateway only sees paths no other route took.
 */
export function normalizeContext(raw: string): string {
  const context = `/${raw.trim().replace(/^\/+|\/+$/g, "")}`;
  if (!CONTEXT.test(context))
    throw new AdminError(400, "invalid_request", "context must be a URL path such as /twitter");
  if (isReservedContext(context))
    throw new AdminError(
      400,
      "invalid_request",
      `context ${context} is reserved for the service's own endpoints`,
    );
  return context;
}

function version(body: JsonObject, required: boolean): string | undefined {
  const value = required ? requiredString(body, "version", 50) : optionalString(body, "version", 50);
  if (value !== undefined && !VERSION.test(value)) {
    throw new AdminError(400, "invalid_request", "version may use letters, digits and . _ - only");
  }
  return value;
}

/**
 * A backend endpoint: an absolute http(s) URL the gateway appends the path remainder and the caller's query to,
 * so it may not carry a query of its own, nor credentials (nothing secret is stored in plaintext).
 */
function endpoint(body: JsonObject, name: string, required: boolean): string | undefined {
  const value = required ? requiredString(body, name, 2000) : optionalString(body, name, 2000);
  if (value === undefined) return undefined;
  const url = new URL(httpUrl(value, name));
  if (url.search || value.includes("?"))
    throw new AdminError(400, "invalid_request", `${name} must not have a query string`);
  if (url.username || url.password)
    throw new AdminError(400, "invalid_request", `${name} must not carry credentials`);
  return value.replace(/\/+$/, "");
}

/**
 * `corsOrigins`: the origins a web page may call the API from (`["*"]`, or origins such as
 * `https://app.example.com`), replacing `CORS_ALLOWED_ORIGINS` for this API; null or absent: the global setting.
 */
function corsOrigins(body: JsonObject): OriginList | null | undefined {
  const value = body.corsOrigins;
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (Array.isArray(value) && value.length > 100)
    throw new AdminError(400, "invalid_request", "corsOrigins may have at most 100 entries");
  try {
    return parseOriginList(value, "corsOrigins");
  } catch (error) {
    throw new AdminError(400, "invalid_request", error instanceof Error ? error.message : "bad corsOrigins");
  }
}

/** `/admin/apis`: published APIs (`/{context}/{version}` on the gateway). */
export const apiRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJson(c.req.raw);
    const input: ApiInput = {
      name: requiredString(body, "name", 100),
      context: normalizeContext(requiredString(body, "context", 200)),
      version: version(body, true) as string,
      productionEndpoint: endpoint(body, "productionEndpoint", true) as string,
      sandboxEndpoint: endpoint(body, "sandboxEndpoint", false) ?? null,
      corsOrigins: corsOrigins(body) ?? null,
    };
    const created = unwrap(await registryStub(c.env).createApi(input));
    return c.json(created, 201, { Location: `/admin/apis/${created.id}` });
  })
  .get("/", async (c) => c.json(await registryStub(c.env).listApis()))
  .get("/:id", async (c) => c.json(unwrap(await registryStub(c.env).getApi(c.req.param("id")))))
  .on(["PUT", "PATCH"], "/:id", async (c) => {
    const body = await readJson(c.req.raw);
    const contextValue = optionalString(body, "context", 200);
    const changes: Partial<ApiInput> = {
      name: optionalString(body, "name", 100),
      context: contextValue === undefined ? undefined : normalizeContext(contextValue),
      version: version(body, false),
      productionEndpoint: endpoint(body, "productionEndpoint", false),
      sandboxEndpoint: body.sandboxEndpoint === null ? null : endpoint(body, "sandboxEndpoint", false),
      corsOrigins: corsOrigins(body),
    };
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    return c.json(unwrap(await registryStub(c.env).updateApi(c.req.param("id"), defined)));
  })
  .delete("/:id", async (c) => {
    unwrap(await registryStub(c.env).deleteApi(c.req.param("id")));
    return c.body(null, 204);
  });

const missingTier = (): never => {
  throw new AdminError(400, "invalid_request", "tier is required");
};

/** `/admin/subscriptions`: an application subscribed to an API, with a tier (API-level throttling). */
export const subscriptionRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJson(c.req.raw);
    const created = unwrap(
      await registryStub(c.env).createSubscription(
        requiredString(body, "applicationId", 100),
        requiredString(body, "apiId", 100),
        optionalTierName(body) ?? UNLIMITED,
      ),
    );
    return c.json(created, 201, { Location: `/admin/subscriptions/${created.id}` });
  })
  .get("/", async (c) => {
    const applicationId = c.req.query("applicationId");
    const apiId = c.req.query("apiId");
    return c.json(
      await registryStub(c.env).listSubscriptions({
        ...(applicationId ? { applicationId } : {}),
        ...(apiId ? { apiId } : {}),
      }),
    );
  })
  .get("/:id", async (c) => c.json(unwrap(await registryStub(c.env).getSubscription(c.req.param("id")))))
  .on(["PUT", "PATCH"], "/:id", async (c) => {
    const body = await readJson(c.req.raw);
    return c.json(
      unwrap(
        await registryStub(c.env).updateSubscription(
          c.req.param("id"),
          optionalTierName(body) ?? missingTier(),
        ),
      ),
    );
  })
  .delete("/:id", async (c) => {
    unwrap(await registryStub(c.env).deleteSubscription(c.req.param("id")));
    return c.body(null, 204);
  });

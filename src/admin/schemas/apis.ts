import { createRoute, z } from "@hono/zod-openapi";
import { parseOriginList } from "../../core/cors-config";
import { isReservedContext } from "../../core/reserved-paths";
import { jsonObjectBody } from "../admin-app";
import { errors, httpUrl, IdParam, jsonBody, jsonResponse, NoContent, text } from "./fields";

const CONTEXT = /^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
const VERSION = /^[A-Za-z0-9._-]+$/;

/** RFC 3986 §3.3, §5.2.4: `.` and `..` are dot segments, which clients and proxies remove before sending. */
function hasDotSegment(path: string): boolean {
  return path.split("/").some((segment) => segment === "." || segment === "..");
}

/**
 * `twitter`, `/twitter` and `/twitter/` are the same context: `/twitter`. A context under one of the service's
 * own paths (`/token`, `/admin`, ...) is refused: the gateway only sees paths no other route took.
 */
const context = text("context", 200)
  .transform((raw, ctx) => {
    const normalized = `/${raw.replace(/^\/+|\/+$/g, "")}`;
    if (!CONTEXT.test(normalized)) {
      ctx.addIssue({ code: "custom", message: "context must be a URL path such as /twitter" });
    } else if (hasDotSegment(normalized)) {
      ctx.addIssue({ code: "custom", message: "context must not have . or .. segments (RFC 3986 §5.2.4)" });
    } else if (isReservedContext(normalized)) {
      ctx.addIssue({
        code: "custom",
        message: `context ${normalized} is reserved for the service's own endpoints`,
      });
    }
    return normalized;
  })
  .openapi({ type: "string", example: "/twitter" });

const version = text("version", 50)
  .regex(VERSION, { error: "version may use letters, digits and . _ - only" })
  .refine((value) => !hasDotSegment(value), { error: "version must not be . or .. (RFC 3986 §5.2.4)" })
  .openapi({ example: "1.0.0" });

/**
 * A backend endpoint: an absolute http(s) URL the gateway appends the path remainder and the caller's query to,
 * so it may not carry a query of its own, nor credentials (nothing secret is stored in plaintext).
 */
function endpoint(name: string) {
  return httpUrl(name)
    .transform((value, ctx) => {
      const url = new URL(value);
      if (url.search || value.includes("?"))
        ctx.addIssue({ code: "custom", message: `${name} must not have a query string` });
      else if (url.username || url.password)
        ctx.addIssue({ code: "custom", message: `${name} must not carry credentials` });
      return value.replace(/\/+$/, "");
    })
    .openapi({ type: "string", format: "uri" });
}

/**
 * `corsOrigins`: the origins a web page may call the API from (`["*"]`, or origins such as
 * `https://app.example.com`), replacing `CORS_ALLOWED_ORIGINS` for this API; null: the global setting.
 */
const corsOrigins = z
  .unknown()
  .transform((value, ctx) => {
    if (Array.isArray(value) && value.length > 100) {
      ctx.addIssue({ code: "custom", message: "corsOrigins may have at most 100 entries" });
      return z.NEVER;
    }
    try {
      return parseOriginList(value, "corsOrigins");
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : "bad corsOrigins" });
      return z.NEVER;
    }
  })
  .nullable()
  .optional()
  .openapi({
    anyOf: [
      { type: "array", items: { type: "string" }, maxItems: 100 },
      { type: "string" },
      { type: "null" },
    ],
    description: 'Origins such as https://app.example.com, or "*"; null: CORS_ALLOWED_ORIGINS',
  });

export const Api = z
  .object({
    id: z.string(),
    name: z.string(),
    context: z.string().openapi({ example: "/twitter" }),
    version: z.string(),
    productionEndpoint: z.string(),
    sandboxEndpoint: z.string().nullable(),
    corsOrigins: z.union([z.literal("*"), z.array(z.string()).readonly()]).nullable(),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Api");

export const NewApi = z
  .object({
    name: text("name", 100),
    context,
    version,
    productionEndpoint: endpoint("productionEndpoint"),
    sandboxEndpoint: endpoint("sandboxEndpoint").nullish(),
    corsOrigins,
  })
  .openapi("NewApi");

export const ApiChanges = z
  .object({
    name: text("name", 100).nullish(),
    context: context.nullish(),
    version: version.nullish(),
    productionEndpoint: endpoint("productionEndpoint").nullish(),
    sandboxEndpoint: endpoint("sandboxEndpoint").nullish().openapi({ description: "null removes it" }),
    corsOrigins,
  })
  .openapi("ApiChanges");

const tags = ["apis"];

export const createApi = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Publish an API at /{context}/{version} on the gateway",
  middleware: [jsonObjectBody] as const,
  request: { body: jsonBody(NewApi) },
  responses: { 201: jsonResponse(Api, "The API"), ...errors(400, 409, 413, 415) },
});

export const listApis = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the APIs",
  responses: { 200: jsonResponse(z.array(Api), "Every API"), ...errors() },
});

export const getApi = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Read an API",
  request: { params: IdParam },
  responses: { 200: jsonResponse(Api, "The API"), ...errors(404) },
});

/** PUT and PATCH alike: the fields given change, the others stay. */
export const updateApi = (method: "put" | "patch") =>
  createRoute({
    method,
    path: "/{id}",
    tags,
    summary: "Change an API",
    middleware: [jsonObjectBody] as const,
    request: { params: IdParam, body: jsonBody(ApiChanges) },
    responses: { 200: jsonResponse(Api, "The API"), ...errors(400, 404, 409, 413, 415) },
  });

export const deleteApi = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an API and its subscriptions",
  request: { params: IdParam },
  responses: { 204: NoContent, ...errors(404) },
});
